using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>The events a pagination found and where it stopped.</summary>
/// <param name="Position">The token position after the last event looked at (the next page starts there).</param>
/// <param name="Exhausted">No further events exist in that direction (for this reader, up to the snapshot or the 'to' bound).</param>
internal sealed record TimelinePage(IReadOnlyList<Pdu> Events, long Position, bool Exhausted);

/// <summary>
/// Pages through a room's timeline for one reader, skipping what history visibility hides from them and what the
/// filter excludes. Bounded: it looks at no more than <see cref="MaxScanned"/> events per call and then returns a
/// token to continue from, so a reader with little visible history cannot make one request scan the whole room.
/// Events of erased senders come pruned to a reader who was not joined when they were sent (<see cref="ErasedSenders"/>).
/// </summary>
internal sealed class TimelineScan(IHomeServerStore store, RoomSnapshot snapshot, RoomHistory history, string userId, bool joinedNow, RoomEventFilter? filter)
{
    public const int MaxScanned = 2_000;
    private const int PageSize = 200;

    /// <param name="from">Token position: backwards starts with the event at it, forwards with the one after.</param>
    /// <param name="to">Token position to stop at, or null.</param>
    public async Task<TimelinePage> ReadAsync(long from, bool forward, long? to, int limit)
    {
        var (found, position, exhausted) = await ScanAsync(from, forward, to, limit);
        var served = await ErasedSenders.PruneAsync(store, found, f => f.Event.Sender.Value,
            f => history.WasJoinedWhenSent(userId, f.Position), f => ValueTask.FromResult(f with { Event = ErasedSenders.Pruned(snapshot.Version, f.Event) }),
            CancellationToken.None);
        return new TimelinePage([.. served.Select(f => f.Event)], position, exhausted);
    }

    private async Task<(List<(Pdu Event, long Position)> Found, long Position, bool Exhausted)> ScanAsync(long from, bool forward, long? to, int limit)
    {
        var found = new List<(Pdu Event, long Position)>();
        var position = Math.Clamp(from, 0, snapshot.LastPosition);
        var scanned = 0;
        while (true)
        {
            if (AtBoundary(position, forward, to)) return (found, position, true);
            if (found.Count >= limit || scanned >= MaxScanned) return (found, position, false);

            var page = await store.Events.GetRoomEventsAsync(snapshot.RoomId, forward ? position : position + 1,
                forward ? Direction.Forward : Direction.Backward, PageSize, CancellationToken.None);
            if (page.Count == 0) return (found, position, true);
            foreach (var e in page)
            {
                if (forward ? e.RoomPosition > snapshot.LastPosition || (to is { } end && e.RoomPosition > end)
                            : to is { } start && e.RoomPosition <= start)
                    return (found, position, true);
                position = forward ? e.RoomPosition : e.RoomPosition - 1;
                scanned++;
                if (Includes(e, out var pdu)) found.Add((pdu, e.RoomPosition));
                if (found.Count >= limit || scanned >= MaxScanned) break;
            }
        }
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
                : position <= 0 || (to is { } start && position <= start);
}
