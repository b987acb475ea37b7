using HomeServer.Grains.Cluster;
using HomeServer.Grains.Sync;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Placement;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A silo's room feed hub: hands each batch of shared room events (the same object for all) and each room-wide notice
/// to the sync grains of the listed users that are active on this silo, directly through <see cref="ILocalFeedReceiver"/>
/// (no grain call per reader). Users whose sync grain is not running are not woken; they catch up from the store when
/// they next sync. Completes once every hand-over was made, so a room's next batch arrives after it.
/// </summary>
[GrainType("room-feed-hub")]
[SiloKeyedPlacement]
[Immovable(ImmovableKind.Any)]
[KeepAlive]
public sealed partial class RoomFeedHubGrain(LocalSyncGrains active, ILogger<RoomFeedHubGrain> logger) : HomeServerGrain, IRoomFeedHubGrain
{
    public Task DeliverAsync(RoomFeedEvents events, IReadOnlyList<string> userIds)
    {
        HandOver(userIds, events.RoomId, receiver => receiver.Receive(events));
        return Task.CompletedTask;
    }

    public Task NotifyAsync(SyncNotice notice, IReadOnlyList<string> userIds)
    {
        HandOver(userIds, notice.RoomId, receiver => receiver.Notify(notice));
        return Task.CompletedTask;
    }

    private void HandOver(IReadOnlyList<string> userIds, string? roomId, Action<ILocalFeedReceiver> handOver)
    {
        foreach (var userId in userIds)
        {
            if (active.Get(userId) is not { } receiver) continue;
            try
            {
                handOver(receiver);
            }
            catch (Exception e)
            {
                LogHandOverFailed(e, roomId, userId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handing news of {RoomId} to the sync grain of {UserId} failed")]
    private partial void LogHandOverFailed(Exception exception, string? roomId, string userId);
}
