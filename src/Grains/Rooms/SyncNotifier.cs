using HomeServer.Grains.Delivery;
using HomeServer.Grains.Sync;
using HomeServer.Runtime;
using HomeServer.Runtime.Membership;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Tells sync grains of local users that something newer exists. Fire and forget: each message is its own task, so a
/// slow or failing sync grain never holds up the room; failures are logged, and the user catches up from the store
/// on their next sync anyway. A notice for one user goes to that user's sync grain; a notice for all members (typing,
/// receipts) goes, in shared delivery, as one message per silo to its room feed hub, which wakes no inactive grain.
/// </summary>
internal sealed class SyncNotifier(IGrainFactory grains, IGrainLocator locator, LocalServer server, SyncDeliveryOptions delivery, ILogger logger)
{
    public void Notify(IEnumerable<string> members, SyncNotice notice)
    {
        if (delivery.IsNaive)
        {
            foreach (var userId in members) Notify(userId, notice);
            return;
        }
        foreach (var silo in locator.GroupBySyncSilo(server, members)) _ = SendToHubAsync(silo.Key, silo.ToList(), notice);
    }

    public void Notify(string userId, SyncNotice notice)
    {
        if (server.IsLocal(userId)) _ = SendAsync(userId, notice);
    }

    private async Task SendAsync(string userId, SyncNotice notice)
    {
        await Task.Yield();
        try
        {
            await grains.GetGrain<ISyncGrain>(userId).NotifyAsync(notice);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Notifying {UserId} of {Kind} in {RoomId} failed", userId, notice.Kind, notice.RoomId);
        }
    }

    private async Task SendToHubAsync(SiloAddress silo, IReadOnlyList<string> userIds, SyncNotice notice)
    {
        await Task.Yield();
        try
        {
            await grains.GetGrain<IRoomFeedHubGrain>(silo.ToString()).NotifyAsync(notice, userIds);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Notifying {Count} members on {Silo} of {Kind} in {RoomId} failed", userIds.Count, silo, notice.Kind, notice.RoomId);
        }
    }
}
