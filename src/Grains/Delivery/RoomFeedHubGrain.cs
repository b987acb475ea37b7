using HomeServer.Grains.Cluster;
using HomeServer.Grains.Sync;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Placement;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A silo's room feed hub: hands each batch of shared room events (the same object for all) and each room-wide notice
/// to the sync grains of the listed users that are active on this silo. Users whose sync grain is not running are not
/// woken; they catch up from the store when they next sync. Completes once every delivery was made, so a room's next
/// batch arrives after it.
/// </summary>
[GrainType("room-feed-hub")]
[SiloKeyedPlacement]
[Immovable(ImmovableKind.Any)]
[KeepAlive]
public sealed class RoomFeedHubGrain(LocalSyncGrains active, ILogger<RoomFeedHubGrain> logger) : HomeServerGrain, IRoomFeedHubGrain
{
    public Task DeliverAsync(RoomFeedEvents events, IReadOnlyList<string> userIds) =>
        CallActiveAsync(userIds, events.RoomId, grain => grain.ReceiveAsync(events));

    public Task NotifyAsync(SyncNotice notice, IReadOnlyList<string> userIds) =>
        CallActiveAsync(userIds, notice.RoomId, grain => grain.NotifyAsync(notice));

    private Task CallActiveAsync(IReadOnlyList<string> userIds, string? roomId, Func<ISyncGrain, Task> call)
    {
        var calls = new List<Task>();
        foreach (var userId in userIds)
        {
            if (active.Get(userId) is { } syncGrain) calls.Add(CallAsync(syncGrain, userId, roomId, call));
        }
        return Task.WhenAll(calls);
    }

    private async Task CallAsync(ISyncGrain syncGrain, string userId, string? roomId, Func<ISyncGrain, Task> call)
    {
        try
        {
            // A grain that deactivated since it was looked up is activated again by this call: its new activation reads
            // the store, so the extra activation costs a little and loses nothing.
            await call(syncGrain);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Handing news of {RoomId} to the sync grain of {UserId} failed", roomId, userId);
        }
    }
}
