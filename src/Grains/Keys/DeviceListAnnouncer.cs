using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Keys;

/// <summary>
/// Wakes the /sync of those a key change concerns, the way presence does: a device-list change (already appended to the
/// stream) goes to the owner and to every user sharing a joined room with it, through each silo's room feed hub, so no
/// idle sync grain is activated; one that is not running reads the change from the store when it next starts.
/// </summary>
internal sealed class DeviceListAnnouncer(
    IHomeServerStore store, IGrainFactory grains, ActiveSilos silos, LocalServer server, SyncDeliveryOptions delivery, ILogger logger)
{
    private SyncNotifier Notifier => new(grains, silos, server, delivery, logger);

    /// <param name="alsoTell">Another user to wake, shared room or not (the signer of the user's keys).</param>
    public async Task DeviceListChangedAsync(string userId, long position, string? alsoTell = null)
    {
        var peers = new HashSet<string>(await store.Presence.GetRoomPeersAsync(userId, CancellationToken.None), StringComparer.Ordinal) { userId };
        if (alsoTell is not null) peers.Add(alsoTell);
        Notifier.Notify(peers, new SyncNotice(SyncNoticeKind.DeviceList, null, position));
    }

    /// <summary>The one-time or fallback keys of one of the user's devices changed: its sync grain re-reads the counts.</summary>
    public void OneTimeKeysChanged(string userId) =>
        Notifier.Notify(userId, new SyncNotice(SyncNoticeKind.OneTimeKeys, null, 0));
}
