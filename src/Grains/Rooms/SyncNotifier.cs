using HomeServer.Grains.Sync;
using HomeServer.Runtime;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Tells sync grains of local users that something newer exists. Fire and forget: each notice is its own task, so a
/// slow or failing sync grain never holds up the room; failures are logged, and the user catches up from the store
/// on their next sync anyway.
/// </summary>
internal sealed class SyncNotifier(IGrainFactory grains, LocalServer server, ILogger logger)
{
    public void Notify(IEnumerable<string> userIds, SyncNotice notice)
    {
        foreach (var userId in userIds) Notify(userId, notice);
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
}
