using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// unread_notifications and unread_thread_notifications of the joined rooms in a response, counted from the
/// notifications stored with the events and the user's read marks (see IPushStore): from the grain's
/// <see cref="UnreadCountsCache"/> where it knows them, else from one store query for the other rooms, whose answer the
/// cache then keeps.
/// </summary>
internal static class SyncUnreadCounts
{
    /// <param name="fromStore">Read every room's counts from the store (the store path), refreshing the cache.</param>
    public static async Task AddAsync(
        IHomeServerStore store, string userId, SyncResult result, SyncFilter? filter, UnreadCountsCache cache, bool fromStore,
        CancellationToken cancellationToken)
    {
        if (result.Joined.Count == 0) return;
        var byRoom = new Dictionary<string, Dictionary<string, (long Notifications, long Highlights)>>(StringComparer.Ordinal);
        var toRead = new List<string>();
        foreach (var room in result.Joined)
        {
            if (!fromStore && cache.Get(room.RoomId) is { } cached) byRoom[room.RoomId] = cached;
            else toRead.Add(room.RoomId);
        }
        if (toRead.Count > 0)
        {
            var generation = cache.Generation;
            foreach (var read in await store.Push.GetUnreadCountsWithPositionsAsync(userId, toRead, cancellationToken))
            {
                byRoom[read.RoomId] = read.Counts.ToDictionary(c => c.ThreadId, c => (c.NotificationCount, c.HighlightCount), StringComparer.Ordinal);
                cache.Keep(read, generation);
            }
        }
        var byThread = filter?.Room.Timeline.UnreadThreadNotifications == true;
        foreach (var room in result.Joined)
        {
            long notifications = 0, highlights = 0;
            if (byThread) room.ThreadUnread = [];
            // Written in the order the store query gives them (by room, then thread), so both sources write the same bytes.
            var threads = byRoom.GetValueOrDefault(room.RoomId) ?? [];
            foreach (var (threadId, counts) in threads.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                if (counts.Notifications == 0) continue;
                if (byThread && threadId != "main")
                {
                    room.ThreadUnread![threadId] = counts;
                    continue;
                }
                notifications += counts.Notifications;
                highlights += counts.Highlights;
            }
            room.Unread = (notifications, highlights);
        }
    }
}
