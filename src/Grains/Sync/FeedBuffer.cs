namespace HomeServer.Grains.Sync;

/// <summary>
/// The shared events a sync grain activation received, per room, in room order (the newest
/// <see cref="MaxEventsPerRoom"/> of each room). For each room it also knows below which global position events may be
/// missing from it: those evicted, those before a batch that did not follow the previous one, and those before the
/// first batch it got. A response may use a room's events only for a token at or above that position.
/// Not thread-safe: the grain guards it.
/// </summary>
internal sealed class FeedBuffer
{
    public const int MaxEventsPerRoom = 100;

    private readonly Dictionary<string, RoomFeed> _rooms = new(StringComparer.Ordinal);

    /// <summary>Adds a room's batch; a batch older than one already received (a late duplicate) is ignored.</summary>
    public void Add(RoomFeedEvents batch)
    {
        if (batch.Events.Count == 0) return;
        if (!_rooms.TryGetValue(batch.RoomId, out var feed))
        {
            // Nothing says whether earlier events of the room reached this activation: assume they may not have.
            _rooms[batch.RoomId] = feed = new RoomFeed { MissingUpTo = batch.Events[0].GlobalPosition - 1 };
        }
        else if (batch.Events[^1].RoomPosition <= feed.LastRoomPosition)
        {
            return;
        }
        else if (batch.PreviousRoomPosition != feed.LastRoomPosition)
        {
            feed.MissingUpTo = Math.Max(feed.MissingUpTo, batch.Events[0].GlobalPosition - 1);
        }
        feed.LastRoomPosition = batch.Events[^1].RoomPosition;
        feed.Events.AddRange(batch.Events);
        var evicted = feed.Events.Count - MaxEventsPerRoom;
        if (evicted <= 0) return;
        feed.MissingUpTo = Math.Max(feed.MissingUpTo, feed.Events[evicted - 1].GlobalPosition);
        feed.Events.RemoveRange(0, evicted);
    }

    /// <summary>Whether some received event is newer than the token and not yet delivered to it.</summary>
    public bool HasNews(SyncToken since)
    {
        foreach (var feed in _rooms.Values)
        {
            for (var i = feed.Events.Count - 1; i >= 0 && feed.Events[i].GlobalPosition > since.Events; i--)
            {
                if (!since.Delivered.Contains(feed.Events[i].GlobalPosition)) return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The events newer than the token and not delivered to it, by room in room order; null when a room with such events
    /// may be missing some of them (the store must answer).
    /// </summary>
    public IReadOnlyList<(string RoomId, List<SharedEvent> Events)>? NewsFor(SyncToken since)
    {
        var news = new List<(string RoomId, List<SharedEvent> Events)>();
        foreach (var (roomId, feed) in _rooms)
        {
            var start = feed.Events.Count;
            while (start > 0 && feed.Events[start - 1].GlobalPosition > since.Events) start--;
            var events = feed.Events.Skip(start).Where(e => !since.Delivered.Contains(e.GlobalPosition)).ToList();
            if (events.Count == 0) continue;
            if (feed.MissingUpTo > since.Events) return null;
            news.Add((roomId, events));
        }
        return news;
    }

    /// <summary>The room's received events after the room position, in room order (may be missing some: see the callers).</summary>
    public IReadOnlyList<SharedEvent> EventsAfter(string roomId, long roomPosition)
    {
        if (!_rooms.TryGetValue(roomId, out var feed)) return [];
        var start = feed.Events.Count;
        while (start > 0 && feed.Events[start - 1].RoomPosition > roomPosition) start--;
        return feed.Events.GetRange(start, feed.Events.Count - start);
    }

    private sealed class RoomFeed
    {
        public List<SharedEvent> Events { get; } = [];
        public long LastRoomPosition { get; set; }
        public long MissingUpTo { get; set; }
    }
}
