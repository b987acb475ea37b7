using System.Text.Json;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Serialization;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Chooses the timeline events of a room for a sync response: those the filter and history visibility let through, with
/// erased senders' events pruned for a user who was not joined when they were sent (<see cref="ErasedSenders"/>).
/// </summary>
internal sealed class TimelineReader(IHomeServerStore store, SyncFilter filter, string userId)
{
    private const int PageSize = 50;

    /// <summary>How many events a backward scan looks at for a filter that matches few events before giving up (limited).</summary>
    private const int MaxScannedEvents = 1000;

    /// <summary>
    /// The longest backlog of a room an incremental sync delivers without a gap (in responses of at most the filter's
    /// limit); as many events as a sync grain buffers per room (<see cref="FeedBuffer.MaxEventsPerRoom"/>).
    /// </summary>
    public const int MaxCatchUpEvents = FeedBuffer.MaxEventsPerRoom;

    /// <summary>The newest matching events up to <paramref name="upTo"/> (a global position), for initial syncs and left rooms.</summary>
    /// <param name="before">A per-room position to start below, when the caller knows where the interesting part ends.</param>
    public async Task<(List<StoredEvent> Events, bool Limited)> LatestAsync(
        string roomId, long upTo, long before, CancellationToken cancellationToken)
    {
        var limit = filter.TimelineLimit;
        var newestFirst = new List<StoredEvent>();
        var from = before;
        var scanned = 0;
        var visibility = new TimelineVisibility(store, userId, roomId, upTo);
        while (true)
        {
            var page = await store.Events.GetRoomEventsAsync(roomId, from, Direction.Backward, PageSize, cancellationToken);
            foreach (var storedEvent in page)
            {
                from = storedEvent.RoomPosition;
                if (storedEvent.GlobalPosition > upTo) continue;
                scanned++;
                if (!await visibility.CanSeeAsync(storedEvent, cancellationToken) || !Matches(storedEvent)) continue;
                if (newestFirst.Count == limit) return (await ServedAsync(OldestFirst(newestFirst), visibility, cancellationToken), true);
                newestFirst.Add(storedEvent);
            }
            if (page.Count < PageSize) return (await ServedAsync(OldestFirst(newestFirst), visibility, cancellationToken), false);
            if (scanned >= MaxScannedEvents) return (await ServedAsync(OldestFirst(newestFirst), visibility, cancellationToken), true);
        }
    }

    /// <summary>The last matching events among <paramref name="window"/> (all of the room's events after the since token, in room order).</summary>
    public async Task<(List<StoredEvent> Events, bool Limited)> FromWindowAsync(IReadOnlyList<StoredEvent> window, CancellationToken cancellationToken)
    {
        var matching = new List<StoredEvent>(window.Count);
        if (window.Count > 0)
        {
            var visibility = new TimelineVisibility(store, userId, window[0].RoomId, window[^1].GlobalPosition);
            for (var i = window.Count - 1; i >= 0; i--)
            {
                if (await visibility.CanSeeAsync(window[i], cancellationToken) && Matches(window[i])) matching.Add(window[i]);
            }
            matching.Reverse();
            var limited = matching.Count > filter.TimelineLimit;
            if (limited) matching = matching.GetRange(matching.Count - filter.TimelineLimit, filter.TimelineLimit);
            return (await ServedAsync(matching, visibility, cancellationToken), limited);
        }
        return (matching, false);
    }

    /// <summary>
    /// Where an incremental response must end so that a room's short backlog is delivered whole rather than skipped:
    /// before the first event that would give some room more timeline events than the filter's limit, as long as that
    /// room has at most <see cref="MaxCatchUpEvents"/> new timeline events. A room with a longer backlog is left to the
    /// limit (its newest events, <c>limited</c>), as for a client that was away. The client syncs again at once from the
    /// earlier end and gets the rest in the next response, so a stall that let a few events pile up (a silo that died
    /// while the client waited on it) never costs the client a gap.
    /// </summary>
    /// <param name="backlogs">The new events of each room from where the user was joined, in room order.</param>
    /// <param name="end">The global position the response would otherwise end at.</param>
    public long CatchUpEnd(IEnumerable<IReadOnlyList<StoredEvent>> backlogs, long end)
    {
        var limit = filter.TimelineLimit;
        if (limit == 0) return end;
        foreach (var backlog in backlogs)
        {
            var timeline = backlog.Where(Matches).ToList();
            if (timeline.Count <= limit || timeline.Count > MaxCatchUpEvents) continue;
            end = Math.Min(end, timeline[limit].GlobalPosition - 1);
        }
        return end;
    }

    /// <summary>The timeline with its prev_batch: the /messages token just before its first event.</summary>
    public static TimelineResult Result(List<StoredEvent> events, bool limited) =>
        new(events, limited, events.Count > 0 ? RoomStreamToken.Format(events[0].RoomPosition - 1) : null);

    private bool Matches(StoredEvent storedEvent) =>
        filter.Room.Timeline.Matches(storedEvent.RoomId, storedEvent.Type, storedEvent.Sender, () => StoredEventFacts.ContentHasUrl(storedEvent));

    private async Task<List<StoredEvent>> ServedAsync(List<StoredEvent> events, TimelineVisibility visibility, CancellationToken cancellationToken)
    {
        RoomVersion? version = null;
        var served = await ErasedSenders.PruneAsync(store, events, e => e.Sender, visibility.WasJoinedWhenSent, async e =>
        {
            version ??= await RoomVersionOfAsync(e.RoomId, cancellationToken);
            using var document = JsonDocument.Parse(e.Json, StoredJson.DocumentOptions);
            return e with { Json = ErasedSenders.Pruned(version, document.RootElement) };
        }, cancellationToken);
        if (served.Count == 0) return [];
        // Bundled aggregations for events read from the store (initial syncs, catch-up); live events are shared as
        // they were sent, before anything could relate to them.
        var aggregations = await BundledAggregations.LoadAsync(
            store, served[0].RoomId, userId, served.Select(e => Events.Pdu.Parse(EventId.Parse(e.EventId), e.Json)));
        return [.. served.Select(aggregations.AddTo)];
    }

    private async Task<RoomVersion> RoomVersionOfAsync(string roomId, CancellationToken cancellationToken) =>
        await store.Rooms.GetRoomAsync(roomId, cancellationToken) is { } room && RoomVersion.TryGet(room.RoomVersion, out var version)
            ? version
            : throw new InvalidOperationException($"Room {roomId} has no known room version.");

    private static List<StoredEvent> OldestFirst(List<StoredEvent> newestFirst)
    {
        newestFirst.Reverse();
        return newestFirst;
    }
}
