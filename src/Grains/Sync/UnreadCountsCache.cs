using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// One user's unread counts per joined room, as the store gave them at a known room position, kept current from the
/// notifications carried by the room's shared events (docs/adr/0029): a shared response then needs no store query.
/// A room's counts are forgotten whenever they may have changed in a way the shared events do not show: a batch that
/// does not follow the last one, an event whose notifications are not known, a receipt in the room (the user's read
/// marks may have moved) or a membership change. Guarded by the grain's lock (<paramref name="gate"/>), which also
/// guards <paramref name="feed"/> and is held while the room feed hub adds a batch to both.
/// </summary>
internal sealed class UnreadCountsCache(string userId, object gate, FeedBuffer feed)
{
    private readonly Dictionary<string, RoomCounts> _rooms = new(StringComparer.Ordinal);

    /// <summary>
    /// Moves on whenever read marks may have moved: counts read from the store before that may miss the change, so
    /// they are kept only if it did not move while they were read.
    /// </summary>
    public long Generation
    {
        get { lock (gate) return _generation; }
    }

    private long _generation;

    /// <summary>A copy of the counts by thread ("main" or a thread root; threads without unread notifications left out), if known.</summary>
    public Dictionary<string, (long Notifications, long Highlights)>? Get(string roomId)
    {
        lock (gate) return _rooms.TryGetValue(roomId, out var room) ? new(room.Threads, StringComparer.Ordinal) : null;
    }

    /// <summary>Adds the notifications of a batch of the room's shared events that follows the known counts. Called under the lock.</summary>
    public void Add(RoomFeedEvents batch)
    {
        if (!_rooms.TryGetValue(batch.RoomId, out var room)) return;
        if (!room.Apply(batch.PreviousRoomPosition, batch.Events, userId)) _rooms.Remove(batch.RoomId);
    }

    /// <summary>A receipt (null room: any room) or a membership change: the user's read marks there may have moved. Called under the lock.</summary>
    public void ReadMarksMayHaveMoved(string? roomId)
    {
        _generation++;
        if (roomId is null) _rooms.Clear();
        else _rooms.Remove(roomId);
    }

    /// <summary>
    /// Keeps counts read from the store when the read marks did not move since <paramref name="generation"/> was taken
    /// (before the read), brought up to date with the room's shared events received meanwhile; forgotten when those do
    /// not follow the read's position without a gap.
    /// </summary>
    public void Keep(RoomUnreadCounts read, long generation)
    {
        lock (gate)
        {
            if (generation != _generation) return;
            var room = new RoomCounts(read.RoomPosition);
            foreach (var count in read.Counts) room.Threads[count.ThreadId] = (count.NotificationCount, count.HighlightCount);
            var later = feed.EventsAfter(read.RoomId, read.RoomPosition);
            if (room.Apply(read.RoomPosition, later, userId)) _rooms[read.RoomId] = room;
            else _rooms.Remove(read.RoomId);
        }
    }

    private sealed class RoomCounts(long throughRoomPosition)
    {
        /// <summary>The room position up to which every notification is counted.</summary>
        private long _through = throughRoomPosition;

        public Dictionary<string, (long Notifications, long Highlights)> Threads { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// Counts the events after the known position, which start at <paramref name="previousRoomPosition"/> + 1 and are
        /// consecutive; false when they leave a gap or one of them may change the counts in another way.
        /// </summary>
        public bool Apply(long previousRoomPosition, IReadOnlyList<SharedEvent> events, string userId)
        {
            if (previousRoomPosition > _through) return false;
            var expected = previousRoomPosition + 1;
            foreach (var e in events)
            {
                if (e.RoomPosition != expected++) return false;
                if (e.RoomPosition <= _through) continue;
                if (e.Notifications is not { } notifications) return false;
                _through = e.RoomPosition;
                if (!notifications.Notifies(userId)) continue;
                var (count, highlights) = Threads.GetValueOrDefault(notifications.ThreadId);
                Threads[notifications.ThreadId] = (count + 1, highlights + (notifications.Highlights(userId) ? 1 : 0));
            }
            return true;
        }
    }
}
