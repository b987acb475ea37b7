using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>Chooses the timeline events of a room for a sync response.</summary>
internal sealed class TimelineReader(IHomeServerStore store, SyncFilter filter)
{
    private const int PageSize = 50;

    /// <summary>How many events a backward scan looks at for a filter that matches few events before giving up (limited).</summary>
    private const int MaxScannedEvents = 1000;

    /// <summary>The newest matching events up to <paramref name="upTo"/> (a global position), for initial syncs and left rooms.</summary>
    /// <param name="before">A per-room position to start below, when the caller knows where the interesting part ends.</param>
    public async Task<(List<StoredEvent> Events, bool Limited)> LatestAsync(
        string roomId, long upTo, long before, CancellationToken cancellationToken)
    {
        var limit = filter.TimelineLimit;
        var newestFirst = new List<StoredEvent>();
        var from = before;
        var scanned = 0;
        while (true)
        {
            var page = await store.Events.GetRoomEventsAsync(roomId, from, Direction.Backward, PageSize, cancellationToken);
            foreach (var storedEvent in page)
            {
                from = storedEvent.RoomPosition;
                if (storedEvent.GlobalPosition > upTo) continue;
                scanned++;
                if (!Matches(storedEvent)) continue;
                if (newestFirst.Count == limit) return (OldestFirst(newestFirst), true);
                newestFirst.Add(storedEvent);
            }
            if (page.Count < PageSize) return (OldestFirst(newestFirst), false);
            if (scanned >= MaxScannedEvents) return (OldestFirst(newestFirst), true);
        }
    }

    /// <summary>The last matching events among <paramref name="window"/> (all of the room's events after the since token).</summary>
    public (List<StoredEvent> Events, bool Limited) FromWindow(IReadOnlyList<StoredEvent> window)
    {
        var matching = window.Where(Matches).ToList();
        var limit = filter.TimelineLimit;
        return matching.Count > limit ? (matching.GetRange(matching.Count - limit, limit), true) : (matching, false);
    }

    /// <summary>The timeline with its prev_batch: the /messages token just before its first event.</summary>
    public static TimelineResult Result(List<StoredEvent> events, bool limited) =>
        new(events, limited, events.Count > 0 ? RoomStreamToken.Format(events[0].RoomPosition - 1) : null);

    private bool Matches(StoredEvent storedEvent) =>
        filter.Room.Timeline.Matches(storedEvent.RoomId, storedEvent.Type, storedEvent.Sender, () => StoredEventFacts.ContentHasUrl(storedEvent));

    private static List<StoredEvent> OldestFirst(List<StoredEvent> newestFirst)
    {
        newestFirst.Reverse();
        return newestFirst;
    }
}
