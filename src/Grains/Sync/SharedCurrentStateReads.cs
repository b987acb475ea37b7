using System.Collections.Concurrent;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// A room's current state read from the store once for all the silo's sync grains that ask at the same moment. Sync
/// responses computed from the store read it for the room summary and for state in a gap; in a room of 5,000 members
/// it is 5,000 rows (about a second of PostgreSQL time each), and when many members fell behind together their reads
/// took almost all of PostgreSQL's time on the fan-out benchmark.
/// </summary>
public sealed class SharedCurrentStateReads(IHomeServerStore store)
{
    /// <summary>Beyond this many rooms the idle ones are forgotten; reads under way still answer their callers.</summary>
    private const int MaxRooms = 10_000;

    private readonly ConcurrentDictionary<string, FreshSharedRead<IReadOnlyList<StoredEvent>>> _reads = new(StringComparer.Ordinal);

    /// <summary>The room's current state, read after this call began.</summary>
    internal Task<IReadOnlyList<StoredEvent>> ReadAsync(string roomId, CancellationToken cancellationToken)
    {
        if (_reads.Count > MaxRooms) _reads.Clear();
        var read = _reads.GetOrAdd(roomId, room => new FreshSharedRead<IReadOnlyList<StoredEvent>>(
            () => store.State.GetCurrentStateAsync(room, CancellationToken.None)));
        return read.ReadAsync(cancellationToken);
    }
}
