using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Outbound;
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
/// the messages from the store (docs/adr/0017-to-device-messages.md). Messages for users of other servers are stored in
/// the federation outbox as <c>m.direct_to_device</c> EDUs, one per destination (more when large), and sent by the
/// destination's sender; those other servers send arrive through <see cref="ReceiveFromServerAsync"/>
/// (docs/adr/0040-federated-keys-and-edus.md). Holds no state: any activation may serve a send.
/// </summary>
[GrainType("todevice")]
public sealed class ToDeviceGrain(
    IHomeServerStore store, LocalServer server, ActiveSilos silos, ILogger<ToDeviceGrain> logger, SyncDeliveryOptions? delivery = null)
    : HomeServerGrain, IToDeviceGrain
{
    public async Task SendAsync(ToDeviceSend send)
    {
        Validate(send);
        // Stored before the local messages: a send that fails in between is retried by the client, and the receiving
        // server drops the repeated EDUs by their message ids, which a retry computes again the same.
        await EnqueueForOtherServersAsync(send, send.Messages.Where(m => !server.IsLocal(m.UserId)).ToList());
        await EnqueueLocallyAsync(send);
    }

    public async Task ReceiveFromServerAsync(ToDeviceSend send)
    {
        Validate(send);
        // Only this server's users; each message id (the transaction id here) is stored once, so a repeated EDU adds nothing.
        await EnqueueLocallyAsync(send with { Messages = [.. send.Messages.Where(m => server.IsLocal(m.UserId))] });
    }

    private async Task EnqueueLocallyAsync(ToDeviceSend send)
    {
        var local = send.Messages.Where(m => server.IsLocal(m.UserId)).ToList();
        var result = await store.ToDevice.EnqueueAsync(
            new NewToDeviceSend(Key, send.SenderDeviceId, send.TransactionId, send.EventType,
                [.. local.Select(m => new ToDeviceRecipient(m.UserId, m.DeviceId, m.Content))],
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
            CancellationToken.None);
        // A retry notifies again: the first attempt may have stored the messages and failed before its notices. Notices
        // carry a position, so one more is harmless. Awaited, so that a recipient's /sync after the sender's
        // acknowledgement finds the messages even with timeout=0.
        var recipients = local.Select(m => m.UserId).Distinct(StringComparer.Ordinal).ToList();
        if (recipients.Count == 0 || (result.Stored == 0 && !result.Duplicate)) return;
        await new SyncNotifier(GrainFactory, silos, server, delivery ?? new SyncDeliveryOptions(), logger)
            .NotifyAllAsync(recipients, new SyncNotice(SyncNoticeKind.ToDevice, null, result.Position));
    }

    /// <summary>EDU content bytes above which a destination's messages are split over several EDUs (one message at least each).</summary>
    private const int MaxEduContentBytes = 60 * 1024;

    private async Task EnqueueForOtherServersAsync(ToDeviceSend send, List<ToDeviceMessageRequest> remote)
    {
        if (remote.Count == 0) return;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var edus = new List<NewOutboxEdu>();
        foreach (var byServer in remote.GroupBy(m => Identifiers.UserId.Parse(m.UserId).Server.Value, StringComparer.Ordinal))
        {
            var chunks = Chunk(byServer.ToList());
            for (var i = 0; i < chunks.Count; i++)
                edus.Add(new NewOutboxEdu(byServer.Key, DirectToDevice.EduType, DirectToDevice.Content(Key, send.EventType, MessageId(send, byServer.Key, i), chunks[i]), now));
        }
        await DurableEdus.SendAsync(store, GrainFactory, edus);
    }

    private static List<List<ToDeviceMessageRequest>> Chunk(List<ToDeviceMessageRequest> messages)
    {
        var chunks = new List<List<ToDeviceMessageRequest>> { new() };
        var bytes = 0;
        foreach (var message in messages)
        {
            if (chunks[^1].Count > 0 && bytes + message.Content.Length > MaxEduContentBytes)
            {
                chunks.Add([]);
                bytes = 0;
            }
            chunks[^1].Add(message);
            bytes += message.Content.Length;
        }
        return chunks;
    }

    /// <summary>The same for a retried send, different for every send, destination and part (32 characters, the spec's limit).</summary>
    private string MessageId(ToDeviceSend send, string destination, int part) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Key}\0{send.SenderDeviceId}\0{send.TransactionId}\0{destination}\0{part}")))[..32];

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
