using HomeServer.Grains.Cluster;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Presence;

/// <summary>Tells the running syncs of users and of their room peers that presence changed up to a position.</summary>
public interface IPresenceAnnouncer
{
    Task AnnounceAsync(IReadOnlyCollection<string> userIds, long position);
}

/// <summary>
/// Announces a batch of presence changes with one peer query for all its users and one notice per peer: a herd of
/// users coming online in a room of 5,000 read the room's 5,000 members once per batch, not once per user, and each
/// peer's sync grain hears of the batch once (its /sync reads every change up to the position from the store).
/// </summary>
public sealed class PresenceAnnouncer(
    IHomeServerStore store, IGrainFactory grains, ActiveSilos silos, LocalServer server, ILogger<PresenceAnnouncer> logger,
    SyncDeliveryOptions? delivery = null) : IPresenceAnnouncer
{
    public async Task AnnounceAsync(IReadOnlyCollection<string> userIds, long position)
    {
        var peers = new HashSet<string>(await store.Presence.GetRoomPeersOfUsersAsync(userIds, CancellationToken.None), StringComparer.Ordinal);
        peers.UnionWith(userIds);
        new SyncNotifier(grains, silos, server, delivery ?? new SyncDeliveryOptions(), logger)
            .Notify(peers, new SyncNotice(SyncNoticeKind.Presence, null, position));
        // Other servers sharing a room with a local user hear of its change too (docs/adr/0045); not awaited by the writes.
        _ = new PresenceFederation(store, grains, server, logger).SendAsync(userIds, peers);
    }
}
