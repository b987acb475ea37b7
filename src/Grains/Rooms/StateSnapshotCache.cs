using System.Collections.Immutable;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A room's pre-serialised state snapshots by version (see docs/adr/0009-state-snapshot-cache.md). A version is
/// built at most once however many readers ask at the same moment: they all await the same build. The few most
/// recently used versions are kept. In naive mode nothing is cached: every request builds its own snapshot.
/// </summary>
internal sealed class StateSnapshotCache(IHomeServerStore store, bool naive)
{
    /// <summary>The current version, the one before the last state event (the herd's usual timeline start), and a few more.</summary>
    private const int MaxVersions = 4;

    private readonly object _lock = new();
    private readonly Dictionary<StateVersion, Entry> _entries = [];
    private long _uses;

    /// <summary>The room's state after the event at <paramref name="position"/> (at most <paramref name="room"/>'s last position).</summary>
    /// <param name="history">The room's history up to at least <paramref name="room"/>'s last position.</param>
    public Task<StateSnapshot> AfterAsync(RoomSnapshot room, RoomHistory history, long position)
    {
        if (position > room.LastPosition) throw new ArgumentOutOfRangeException(nameof(position), "The room does not know this position yet.");
        // Every position between two state events has the same state, so they share one version.
        var version = new StateVersion(
            history.LastStateEventAtOrBefore(position), history.LastRedactionAtOrBefore(room.LastPosition));
        if (naive) return BuildAsync(room, history, version);

        Entry entry;
        lock (_lock)
        {
            var found = _entries.TryGetValue(version, out entry!);
            if (!found)
            {
                entry = new Entry(new Lazy<Task<StateSnapshot>>(() => BuildCountedAsync(room, history, version)));
                _entries[version] = entry;
            }
            entry.LastUse = ++_uses;
            if (!found) DropLeastRecentlyUsed();
        }
        return AwaitAsync(version, entry);
    }

    private async Task<StateSnapshot> AwaitAsync(StateVersion version, Entry entry)
    {
        try
        {
            return await entry.Build.Value;
        }
        catch
        {
            // A failed build is not kept: the next reader tries again.
            lock (_lock)
            {
                if (_entries.TryGetValue(version, out var current) && current == entry) _entries.Remove(version);
            }
            throw;
        }
    }

    private async Task<StateSnapshot> BuildCountedAsync(RoomSnapshot room, RoomHistory history, StateVersion version)
    {
        // Off the caller's turn: the build is shared by every reader that arrives meanwhile.
        await Task.Yield();
        var snapshot = await BuildAsync(room, history, version);
        SyncMetrics.SnapshotBuilds.Add(1, new("room", room.RoomId), new("state_version", version.ToString()));
        return snapshot;
    }

    private async Task<StateSnapshot> BuildAsync(RoomSnapshot room, RoomHistory history, StateVersion version)
    {
        var position = version.StateEventPosition;
        IReadOnlyDictionary<StateEventKey, Pdu> state;
        if (position == 0) state = ImmutableDictionary<StateEventKey, Pdu>.Empty;
        else if (position >= history.LastStateEventAtOrBefore(room.LastPosition)) state = room.State;
        else state = await HistoricalState.AtAsync(store, room, position, CancellationToken.None);
        return StateSnapshot.Build(version, state, history);
    }

    private void DropLeastRecentlyUsed()
    {
        while (_entries.Count > MaxVersions)
        {
            var oldest = _entries.MinBy(pair => pair.Value.LastUse).Key;
            _entries.Remove(oldest);
        }
    }

    private sealed class Entry(Lazy<Task<StateSnapshot>> build)
    {
        public Lazy<Task<StateSnapshot>> Build => build;

        public long LastUse { get; set; }
    }
}
