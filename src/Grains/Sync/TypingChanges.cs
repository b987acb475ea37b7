namespace HomeServer.Grains.Sync;

/// <summary>
/// Which rooms' typing sets changed, numbered in the order this activation heard of them (see <see cref="SyncToken"/>).
/// Not thread-safe: the grain guards it.
/// </summary>
internal sealed class TypingChanges
{
    private readonly Dictionary<string, (long Serial, long Sequence)> _rooms = new(StringComparer.Ordinal);

    /// <summary>The number of the latest change (0: none yet).</summary>
    public long Sequence { get; private set; }

    /// <summary>
    /// Records a room's typing state, from a notice or read from the room; false when it is not newer than one already
    /// seen (notices may overtake each other and reads). A newer state is a change: tokens before it must get the room.
    /// </summary>
    public bool Record(string roomId, long serial)
    {
        if (_rooms.TryGetValue(roomId, out var known) && known.Serial >= serial) return false;
        _rooms[roomId] = (serial, ++Sequence);
        return true;
    }

    /// <summary>Rooms changed after <paramref name="sequence"/>; all known rooms when it is null (another activation's token).</summary>
    public IReadOnlyList<string> ChangedAfter(long? sequence) =>
        _rooms.Where(room => sequence is null || room.Value.Sequence > sequence).Select(room => room.Key).ToList();
}
