using HomeServer.Grains.Sync;
using HomeServer.Runtime;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A silo's room feed hub: hands each batch of shared room events, the same object for all, to the sync grains of the
/// listed users that are active on this silo. Users whose sync grain is not running are not woken; they catch up from
/// the store when they next sync. Completes once every delivery was made, so a room's next batch arrives after it.
/// </summary>
public sealed class RoomFeedHubGrain(ILogger<RoomFeedHubGrain> logger) : Grain, IRoomFeedHubGrain
{
    public Task DeliverAsync(RoomFeedEvents events, IReadOnlyList<string> userIds)
    {
        var deliveries = new List<Task>(userIds.Count);
        foreach (var userId in userIds)
        {
            if (GrainLocator.GetIfActiveHere<ISyncGrain>(userId) is { } syncGrain) deliveries.Add(DeliverAsync(syncGrain, userId, events));
        }
        return Task.WhenAll(deliveries);
    }

    private async Task DeliverAsync(ISyncGrain syncGrain, string userId, RoomFeedEvents events)
    {
        try
        {
            await syncGrain.ReceiveAsync(events);
        }
        catch (GrainNotActiveException)
        {
            // Deactivated meanwhile: its next activation reads the store.
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Handing events of {RoomId} to the sync grain of {UserId} failed", events.RoomId, userId);
        }
    }
}
