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
    /// the sender device's transaction id: a retry stores nothing again. Messages for other servers, unknown users and
    /// unknown devices are dropped. Refuses malformed or oversized sends with a <see cref="MatrixRequestException"/>,
    /// storing nothing.
    /// </summary>
    [Idempotent]
    Task SendAsync(ToDeviceSend send);
}
