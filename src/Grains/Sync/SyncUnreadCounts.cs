using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// unread_notifications and unread_thread_notifications of the joined rooms in a response: one store query for all of
/// them, counted from the notifications stored with the events and the user's read marks (see IPushStore).
/// </summary>
internal static class SyncUnreadCounts
{
    public static async Task AddAsync(IHomeServerStore store, string userId, SyncResult result, SyncFilter? filter, CancellationToken cancellationToken)
    {
        if (result.Joined.Count == 0) return;
        var byThread = filter?.Room.Timeline.UnreadThreadNotifications == true;
        var counts = await store.Push.GetUnreadCountsAsync(userId, result.Joined.Select(room => room.RoomId).ToList(), cancellationToken);
        var byRoom = counts.ToLookup(count => count.RoomId, StringComparer.Ordinal);
        foreach (var room in result.Joined)
        {
            long notifications = 0, highlights = 0;
            if (byThread) room.ThreadUnread = [];
            foreach (var count in byRoom[room.RoomId])
            {
                if (byThread && count.ThreadId != "main")
                {
                    room.ThreadUnread![count.ThreadId] = (count.NotificationCount, count.HighlightCount);
                    continue;
                }
                notifications += count.NotificationCount;
                highlights += count.HighlightCount;
            }
            room.Unread = (notifications, highlights);
        }
    }
}
