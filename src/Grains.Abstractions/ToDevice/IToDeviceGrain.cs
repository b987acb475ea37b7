using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.ToDevice;

/// <summary>
/// Sizes of one PUT /sendToDevice (docs/adr/0017-to-device-messages.md). A message's content may be as large as the
/// federation limit of one EDU (64 KiB), so a message accepted here could also be sent to another server; the whole
/// request is bounded by the gateway's largest body (<c>MatrixGatewayOptions.MaxRequestBodyBytes</c>, 1 MiB by default).
/// Larger is 413 M_TOO_LARGE.
/// </summary>
public static class ToDeviceLimits
{
    /// <summary>Largest content of one message, as compact JSON (UTF-8 bytes).</summary>
    public const int MaxContentBytes = 65_536;

    /// <summary>Most (user, device) entries of one request, "*" counting as one (the store's limit of one send).</summary>
    public const int MaxMessagesPerRequest = 10_000;

    /// <summary>Most to-device messages one /sync response carries (as Synapse); the rest come in the next responses.</summary>
    public const int MaxMessagesPerSync = 100;
}

/// <summary>One message of a send: its recipient and content.</summary>
/// <param name="DeviceId">The device, or null for all of the user's current devices (the spec's "*").</param>
/// <param name="Content">The content, one compact JSON object.</param>
[GenerateSerializer, Immutable, Alias("hs.ToDeviceMessageRequest")]
public sealed record ToDeviceMessageRequest(string UserId, string? DeviceId, byte[] Content);

/// <summary>A PUT /sendToDevice/{eventType}/{txnId} of one device of the grain's user.</summary>
[GenerateSerializer, Immutable, Alias("hs.ToDeviceSend")]
public sealed record ToDeviceSend(string SenderDeviceId, string TransactionId, string EventType, IReadOnlyList<ToDeviceMessageRequest> Messages);

/// <summary>Sends the to-device messages of one user (key: the sender's full user id).</summary>
[Alias("todevice")]
public interface IToDeviceGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores the messages in the inbox of each addressed local device and wakes the recipients' /sync. Idempotent by
    /// the sender device's transaction id: a retry stores nothing again. Messages for users of other servers are stored
    /// for those servers (docs/adr/0040-federated-keys-and-edus.md); unknown users and unknown devices are dropped.
    /// Refuses malformed or oversized sends with a <see cref="MatrixRequestException"/>, storing nothing.
    /// </summary>
    [Idempotent]
    Task SendAsync(ToDeviceSend send);

    /// <summary>
    /// An <c>m.direct_to_device</c> EDU of the grain's user, a user of another server: its messages for this server's
    /// users are stored in their devices' inboxes, once per message id (<see cref="ToDeviceSend.TransactionId"/>; the
    /// sender device is <see cref="DirectToDevice.SenderDevice"/>). Refuses malformed messages with a
    /// <see cref="MatrixRequestException"/>.
    /// </summary>
    [Idempotent]
    Task ReceiveFromServerAsync(ToDeviceSend send);
}

/// <summary>The <c>m.direct_to_device</c> EDU: to-device messages between servers.</summary>
public static class DirectToDevice
{
    public const string EduType = "m.direct_to_device";

    /// <summary>
    /// Stands for the (unnamed) device of a remote sender in the to-device transaction ids, which deduplicate its
    /// messages by message id. Not a possible device id of this server's users (they are never remote senders anyway).
    /// </summary>
    public const string SenderDevice = "m.direct_to_device";

    /// <summary>The EDU's content: <c>{sender, type, message_id, messages: {user: {device or *: content}}}</c>.</summary>
    public static byte[] Content(string sender, string eventType, string messageId, IReadOnlyList<ToDeviceMessageRequest> messages)
    {
        using var buffer = new System.IO.MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("sender", sender);
            writer.WriteString("type", eventType);
            writer.WriteString("message_id", messageId);
            writer.WriteStartObject("messages");
            foreach (var byUser in messages.GroupBy(m => m.UserId, System.StringComparer.Ordinal))
            {
                writer.WriteStartObject(byUser.Key);
                foreach (var message in byUser)
                {
                    writer.WritePropertyName(message.DeviceId ?? "*");
                    writer.WriteRawValue(message.Content);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
