using System.Collections.Concurrent;
using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// A room member's current member event, read once for all the silo's sync grains that ask at the same moment: the
/// first message of a sender in a room of 1,000 lazy-loading members makes each of them need that sender's member
/// event, and one query answers them all (docs/adr/0032).
/// </summary>
public sealed class SharedMemberReads(IHomeServerStore store)
{
    /// <summary>Beyond this many (room, user) pairs the idle ones are forgotten; reads under way still answer their callers.</summary>
    private const int MaxPairs = 10_000;

    private readonly ConcurrentDictionary<(string RoomId, string UserId), FreshSharedRead<StoredEvent?>> _reads = new();

    /// <summary>The member event read after this call began, or null when the user has none in the room.</summary>
    internal Task<StoredEvent?> ReadAsync(string roomId, string userId, CancellationToken cancellationToken)
    {
        if (_reads.Count > MaxPairs) _reads.Clear();
        var read = _reads.GetOrAdd((roomId, userId), pair => new FreshSharedRead<StoredEvent?>(
            () => store.State.GetStateEventAsync(pair.RoomId, EventTypes.Member, pair.UserId, CancellationToken.None)));
        return read.ReadAsync(cancellationToken);
    }
}
