using HomeServer.Grains.Sync;
using HomeServer.Runtime;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A silo's room feed hub: hands each batch of shared room events (the same object for all) and each room-wide notice
/// to the sync grains of the listed users that are active on this silo. Users whose sync grain is not running are not
/// woken; they catch up from the store when they next sync. Completes once every delivery was made, so a room's next
/// batch arrives after it.
/// </summary>
public sealed class RoomFeedHubGrain(ILogger<RoomFeedHubGrain> logger) : Grain, IRoomFeedHubGrain
{
    public Task DeliverAsync(RoomFeedEvents events, IReadOnlyList<string> userIds) =>
        CallActiveAsync(userIds, events.RoomId, grain => grain.ReceiveAsync(events));

    public Task NotifyAsync(SyncNotice notice, IReadOnlyList<string> userIds) =>
        CallActiveAsync(userIds, notice.RoomId, grain => grain.NotifyAsync(notice));

    private Task CallActiveAsync(IReadOnlyList<string> userIds, string? roomId, Func<ISyncGrain, Task> call)
    {
        var calls = new List<Task>(userIds.Count);
        foreach (var userId in userIds)
        {
            if (GrainLocator.GetIfActiveHere<ISyncGrain>(userId) is { } syncGrain) calls.Add(CallAsync(syncGrain, userId, roomId, call));
        }
        return Task.WhenAll(calls);
    }

    private async Task CallAsync(ISyncGrain syncGrain, string userId, string? roomId, Func<ISyncGrain, Task> call)
    {
        try
        {
            await call(syncGrain);
        }
        catch (GrainNotActiveException)
        {
            // Deactivated meanwhile: its next activation reads the store.
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Handing news of {RoomId} to the sync grain of {UserId} failed", roomId, userId);
        }
    }
}
