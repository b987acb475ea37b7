using System.Text;
using System.Text.Json;
using HomeServer.Grains.Cluster;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.ToDevice;

/// <summary>
/// One user's to-device sends. Each send is stored first, all its messages and its transaction id in one transaction
/// at one position of the to-device stream, and then notified to the sync grains of its recipients, whose /sync reads
/// the messages from the store (docs/adr/0017-to-device-messages.md). Holds no state: any activation may serve a send.
/// </summary>
[GrainType("todevice")]
public sealed class ToDeviceGrain(
    IHomeServerStore store, LocalServer server, ActiveSilos silos, ILogger<ToDeviceGrain> logger, SyncDeliveryOptions? delivery = null)
    : HomeServerGrain, IToDeviceGrain
{
    public async Task SendAsync(ToDeviceSend send)
    {
        Validate(send);
        // Only local users can be reached until federation exists: messages for other servers are dropped (Synapse would
        // send them as m.direct_to_device EDUs).
        var local = send.Messages.Where(m => server.IsLocal(m.UserId)).ToList();
        var result = await store.ToDevice.EnqueueAsync(
            new NewToDeviceSend(Key, send.SenderDeviceId, send.TransactionId, send.EventType,
                [.. local.Select(m => new ToDeviceRecipient(m.UserId, m.DeviceId, m.Content))],
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
            CancellationToken.None);
        // A retry notifies again: the first attempt may have stored the messages and failed before its notices. Notices
        // carry a position, so one more is harmless.
        var recipients = local.Select(m => m.UserId).Distinct(StringComparer.Ordinal).ToList();
        if (recipients.Count == 0 || (result.Stored == 0 && !result.Duplicate)) return;
        new SyncNotifier(GrainFactory, silos, server, delivery ?? new SyncDeliveryOptions(), logger)
            .Notify(recipients, new SyncNotice(SyncNoticeKind.ToDevice, null, result.Position));
    }

    private static void Validate(ToDeviceSend send)
    {
        if (!IsIdentifier(send.EventType)) throw MatrixRequestException.InvalidParam("The event type must be 1 to 255 bytes without NUL.");
        if (!IsIdentifier(send.TransactionId)) throw MatrixRequestException.InvalidParam("The transaction id must be 1 to 255 bytes without NUL.");
        if (send.Messages.Count > ToDeviceLimits.MaxMessagesPerRequest)
            throw new MatrixRequestException("M_TOO_LARGE", $"At most {ToDeviceLimits.MaxMessagesPerRequest} messages may be sent at once.");
        var recipients = new HashSet<(string, string?)>();
        foreach (var message in send.Messages)
        {
            if (!Identifiers.UserId.IsValid(message.UserId)) throw MatrixRequestException.InvalidParam($"'{message.UserId}' is not a user ID.");
            if (message.DeviceId is not null && !IsIdentifier(message.DeviceId))
                throw MatrixRequestException.InvalidParam("A device id must be 1 to 255 bytes without NUL.");
            if (!recipients.Add((message.UserId, message.DeviceId)))
                throw MatrixRequestException.InvalidParam($"{message.UserId} {message.DeviceId ?? "*"} is addressed twice.");
            if (message.Content.Length > ToDeviceLimits.MaxContentBytes)
                throw new MatrixRequestException("M_TOO_LARGE", $"A message's content is at most {ToDeviceLimits.MaxContentBytes} bytes.");
            if (!IsJsonObject(message.Content)) throw MatrixRequestException.BadJson("A message's content must be a JSON object.");
        }
    }

    private static bool IsIdentifier(string value) =>
        value.Length > 0 && !value.Contains('\0') && Encoding.UTF8.GetByteCount(value) <= StoreLimits.MaxIdentifierBytes;

    private static bool IsJsonObject(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
