using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Where the silo's newest events are (<see cref="EventPlace"/>: position, room, member event's user), read from the
/// store once for all the silo's sync grains: when a burst of shared responses fills the members' tokens at the same
/// moment, one range read tells every one of them which positions concern it, instead of one store-path response each
/// (docs/adr/0032-token-compaction.md). The positions kept reach up to a persisted-up-to position read from the store,
/// so nothing below it can still appear.
/// </summary>
public sealed class RecentEventPlaces(IHomeServerStore store)
{
    /// <summary>How many places are kept; a token older than the oldest kept is left to the store path.</summary>
    public const int MaxKept = 20_000;

    /// <summary>How far back the first read starts below the persisted-up-to position.</summary>
    private const int FirstReadSpan = 5_000;

    private readonly object _lock = new();
    private EventPlacesWindow? _window;
    private Task? _refreshing;

    /// <summary>
    /// The places after <paramref name="after"/>, reading the store when the kept ones end before
    /// <paramref name="wanted"/> (at most twice: the persisted-up-to position may lag behind an append in flight).
    /// Null when <paramref name="after"/> is older than the oldest kept place.
    /// </summary>
    public async Task<EventPlacesWindow?> GetAsync(long after, long wanted, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            Task refreshing;
            lock (_lock)
            {
                if (_window is { } known && known.UpTo >= wanted) return known.StartsAtOrBefore(after) ? known : null;
                // A read that completed (or failed) is not joined: the next caller starts another.
                if (_refreshing is not { IsCompleted: false }) _refreshing = RefreshAsync();
                refreshing = _refreshing;
            }
            await refreshing.WaitAsync(cancellationToken);
        }
        lock (_lock) return _window is { } window && window.StartsAtOrBefore(after) ? window : null;
    }

    /// <summary>One read for every caller waiting; it runs to its end even when they give up.</summary>
    private async Task RefreshAsync()
    {
        var upTo = await store.Events.GetMaxGlobalPositionAsync(CancellationToken.None);
        EventPlacesWindow? known;
        lock (_lock) known = _window;
        var from = known?.UpTo ?? Math.Max(0, upTo - FirstReadSpan);
        var read = await store.Events.GetEventPlacesAsync(from, upTo, StoreLimits.MaxQueryLimit, CancellationToken.None);
        // A full page may stop short of the position read: the window then ends at its last place.
        var end = read.Count == StoreLimits.MaxQueryLimit ? read[^1].GlobalPosition : upTo;
        lock (_lock) _window = (known ?? new EventPlacesWindow([], from, from)).Extend(read, end, MaxKept);
    }
}

/// <summary>
/// Every event with a global position above <see cref="From"/> and at most <see cref="UpTo"/>, ascending (positions in
/// between without a place hold no event: an append that failed). Immutable: readers keep the one they got.
/// </summary>
public sealed class EventPlacesWindow(EventPlace[] places, long from, long upTo)
{
    public long From { get; } = from;
    public long UpTo { get; } = upTo;

    public bool StartsAtOrBefore(long position) => From <= position;

    /// <summary>The places above <paramref name="position"/> (which must not be below <see cref="From"/>).</summary>
    public ReadOnlySpan<EventPlace> After(long position)
    {
        var low = 0;
        var high = places.Length;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (places[middle].GlobalPosition <= position) low = middle + 1;
            else high = middle;
        }
        return places.AsSpan(low);
    }

    /// <summary>This window followed by <paramref name="read"/> up to <paramref name="end"/>, its oldest places dropped beyond <paramref name="maxKept"/>.</summary>
    public EventPlacesWindow Extend(IReadOnlyList<EventPlace> read, long end, int maxKept)
    {
        if (end <= UpTo) return this;
        var all = new EventPlace[places.Length + read.Count];
        places.CopyTo(all, 0);
        for (var i = 0; i < read.Count; i++) all[places.Length + i] = read[i];
        var dropped = Math.Max(0, all.Length - maxKept);
        return dropped == 0
            ? new EventPlacesWindow(all, From, end)
            : new EventPlacesWindow(all[dropped..], all[dropped - 1].GlobalPosition, end);
    }
}
