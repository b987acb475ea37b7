using HomeServer.Grains.Cluster;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Sync;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Tells sync grains of local users that something newer exists. Fire and forget: each message is its own task, so a
/// slow or failing sync grain never holds up the room; failures are logged, and the user catches up from the store
/// on their next sync anyway. A notice for one user goes to that user's sync grain; a notice for all members (typing,
/// receipts) goes, in shared delivery, as one message to the room feed hub of each active silo, which wakes no inactive grain.
/// </summary>
internal sealed class SyncNotifier(IGrainFactory grains, ActiveSilos silos, LocalServer server, SyncDeliveryOptions delivery, ILogger logger)
{
    public void Notify(IEnumerable<string> members, SyncNotice notice) => _ = NotifyAllAsync(members, notice);

    /// <summary>
    /// Like <see cref="Notify(IEnumerable{string}, SyncNotice)"/>, completing once every notice was handed over or its
    /// failure logged (it never faults): a write acknowledged after it is seen by its recipients' next /sync, even one
    /// that does not wait.
    /// </summary>
    public Task NotifyAllAsync(IEnumerable<string> members, SyncNotice notice)
    {
        if (delivery.IsNaive)
            return Task.WhenAll(members.Where(server.IsLocal).Select(userId => SendAsync(userId, notice)));
        var localMembers = members.Where(server.IsLocal).ToList();
        if (localMembers.Count == 0) return Task.CompletedTask;
        return Task.WhenAll(silos.Current().Select(silo => SendToHubAsync(silo, localMembers, notice)));
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
            await grains.GetGrain<IRoomFeedHubGrain>(SiloKeyedPlacement.KeyOf(silo)).NotifyAsync(notice, userIds);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Notifying {Count} members on {Silo} of {Kind} in {RoomId} failed", userIds.Count, silo, notice.Kind, notice.RoomId);
        }
    }
}
