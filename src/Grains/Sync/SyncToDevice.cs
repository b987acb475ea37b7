using HomeServer.Grains.ToDevice;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// The to_device section of one response built from the store: the requesting device's messages after the since token's
/// to-device position, in stream order, at most <see cref="ToDeviceLimits.MaxMessagesPerSync"/>. The token is per user
/// but the stream is global: a response's to-device position says "this device has every one of its messages up to
/// here", which is the end of the read window, or the last message sent when the limit cut the window short (the rest
/// then comes next time). The messages stay stored until the device acknowledges them by syncing with a token at or
/// past them (see docs/adr/0017-to-device-messages.md). The filter has no to_device part in the spec, so none applies.
/// </summary>
internal static class SyncToDevice
{
    /// <summary>The device's messages after <paramref name="after"/> up to <paramref name="upTo"/>, and the to-device position the response's token names.</summary>
    public static async Task<(IReadOnlyList<ToDeviceMessage> Messages, long Position)> ReadAsync(
        IHomeServerStore store, string userId, string deviceId, long after, long upTo, CancellationToken cancellationToken)
    {
        if (upTo <= after) return ([], after);
        var messages = await store.ToDevice.GetMessagesAsync(userId, deviceId, after, upTo, ToDeviceLimits.MaxMessagesPerSync, cancellationToken);
        return (messages, messages.Count == ToDeviceLimits.MaxMessagesPerSync ? messages[^1].StreamPosition : upTo);
    }
}
