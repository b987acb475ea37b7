using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>The events a pagination found and where it stopped.</summary>
/// <param name="Position">The token position after the last event looked at (the next page starts there).</param>
/// <param name="Exhausted">No further events exist in that direction (for this reader, up to the snapshot or the 'to' bound).</param>
/// <param name="AtBackfillEdge">Backwards, the scan ran out of stored history of a room whose older history may still be fetched.</param>
internal sealed record TimelinePage(IReadOnlyList<Pdu> Events, long Position, bool Exhausted, bool AtBackfillEdge = false);

/// <summary>
/// The timeline of a room joined over federation (docs/adr/0044): the log from the copy's join on, and before it the
/// history backfilled from other servers (negative positions). The copy's own state and auth-chain events (log
/// positions below <paramref name="FirstLogPosition"/>) are not part of it: they come back in their place with the
/// backfilled history.
/// </summary>
/// <param name="Complete">Nothing older will be fetched: the backfilled history ends the timeline.</param>
internal sealed record BackfilledTimeline(long FirstLogPosition, bool Complete);

/// <summary>
/// Pages through a room's timeline for one reader, skipping what history visibility hides from them and what the
/// filter excludes. Bounded: it looks at no more than <see cref="MaxScanned"/> events per call and then returns a
/// token to continue from, so a reader with little visible history cannot make one request scan the whole room.
/// Events of erased senders come pruned to a reader who was not joined when they were sent (<see cref="ErasedSenders"/>).
/// </summary>
internal sealed class TimelineScan(
    IHomeServerStore store, RoomSnapshot snapshot, RoomHistory history, string userId, bool joinedNow, RoomEventFilter? filter,
    BackfilledTimeline? backfill = null)
{
    public const int MaxScanned = 2_000;
    private const int PageSize = 200;

    /// <param name="from">Token position: backwards starts with the event at it, forwards with the one after.</param>
    /// <param name="to">Token position to stop at, or null.</param>
    public async Task<TimelinePage> ReadAsync(long from, bool forward, long? to, int limit)
    {
        var (found, position, exhausted, atEdge) = await ScanAsync(from, forward, to, limit);
        var served = await ErasedSenders.PruneAsync(store, found, f => f.Event.Sender.Value,
            f => history.WasJoinedWhenSent(userId, f.Position), f => ValueTask.FromResult(f with { Event = ErasedSenders.Pruned(snapshot.Version, f.Event) }),
            CancellationToken.None);
        return new TimelinePage([.. served.Select(f => f.Event)], position, exhausted, atEdge);
    }

    private async Task<(List<(Pdu Event, long Position)> Found, long Position, bool Exhausted, bool AtBackfillEdge)> ScanAsync(
        long from, bool forward, long? to, int limit)
    {
        var found = new List<(Pdu Event, long Position)>();
        var position = Math.Clamp(from, backfill is null ? 0 : long.MinValue, snapshot.LastPosition);
        var scanned = 0;
        while (true)
        {
            if (AtBoundary(position, forward, to)) return (found, position, true, false);
            if (found.Count >= limit || scanned >= MaxScanned) return (found, position, false, false);

            var page = await ReadPageAsync(position, forward);
            if (page.Count == 0)
            {
                // Backwards past the oldest stored event of a room whose older history can still be fetched.
                var atEdge = !forward && backfill is { Complete: false };
                return (found, position, !atEdge, atEdge);
            }
            foreach (var e in page)
            {
                if (forward ? e.RoomPosition > snapshot.LastPosition || (to is { } end && e.RoomPosition > end)
                            : to is { } start && e.RoomPosition <= start)
                    return (found, position, true, false);
                position = forward ? e.RoomPosition : e.RoomPosition - 1;
                scanned++;
                if (Includes(e, out var pdu)) found.Add((pdu, e.RoomPosition));
                if (found.Count >= limit || scanned >= MaxScanned) break;
            }
        }
    }

    /// <summary>
    /// The next events from a token position: the log's; in a room with backfilled history, the log from the copy's
    /// join on and the backfilled events below it, as one sequence.
    /// </summary>
    private async Task<IReadOnlyList<StoredEvent>> ReadPageAsync(long position, bool forward)
    {
        if (backfill is null)
            return await store.Events.GetRoomEventsAsync(snapshot.RoomId, forward ? position : position + 1,
                forward ? Direction.Forward : Direction.Backward, PageSize, CancellationToken.None);

        var firstLog = backfill.FirstLogPosition;
        if (forward)
        {
            if (position < -1)
            {
                var older = await store.Backfill.GetEventsAsync(snapshot.RoomId, position, Direction.Forward, PageSize, CancellationToken.None);
                if (older.Count > 0) return older;
            }
            return await store.Events.GetRoomEventsAsync(snapshot.RoomId, Math.Max(position, firstLog - 1), Direction.Forward, PageSize, CancellationToken.None);
        }
        if (position >= firstLog)
        {
            var log = (await store.Events.GetRoomEventsAsync(snapshot.RoomId, position + 1, Direction.Backward, PageSize, CancellationToken.None))
                .TakeWhile(e => e.RoomPosition >= firstLog).ToList();
            if (log.Count > 0) return log;
        }
        return await store.Backfill.GetEventsAsync(snapshot.RoomId, Math.Min(position, -1) + 1, Direction.Backward, PageSize, CancellationToken.None);
    }

    public bool Includes(StoredEvent e, out Pdu pdu)
    {
        pdu = Pdu.Parse(Identifiers.EventId.Parse(e.EventId), e.Json);
        if (!history.CanSee(userId, joinedNow, e.RoomPosition, e.Type, e.StateKey)) return false;
        return filter is null || filter.Matches(e.Type, e.Sender, HasUrl(pdu));
    }

    public static bool HasUrl(Pdu pdu) => pdu.Content.TryGetProperty("url", out var url) && url.ValueKind != JsonValueKind.Undefined;

    private bool AtBoundary(long position, bool forward, long? to) =>
        forward ? position >= snapshot.LastPosition || (to is { } end && position >= end)
                : (backfill is null && position <= 0) || (to is { } start && position <= start);
}
