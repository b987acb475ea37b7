using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>A user's own membership in one room: the current member event and, once looked up, its global position.</summary>
internal sealed class RoomMembership(string roomId, string membership, string eventId, long notAfter)
{
    public string RoomId { get; } = roomId;
    public string Membership { get; } = membership;
    public string EventId { get; } = eventId;

    /// <summary>The exact global position of the member event, once looked up.</summary>
    public long? Position { get; set; }

    /// <summary>A global position the member event is known not to be after (the store's newest when it was loaded).</summary>
    public long NotAfter { get; } = notAfter;
}

/// <summary>
/// The rooms of one user as a sync grain keeps them: loaded with one query, and loaded again only when a computation
/// reads the store past the position the list is complete through. Positions of member events are looked up lazily
/// (only when a sync needs them) and kept, and memberships replaced during this activation are remembered, so "what was
/// the membership at the since token" is usually answered without the store.
/// </summary>
internal sealed class UserRooms(IHomeServerStore store, string userId)
{
    private readonly Dictionary<string, RoomMembership> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<RoomMembership>> _replaced = new(StringComparer.Ordinal);
    private bool _loaded;

    /// <summary>Every membership change up to this global position is in the list.</summary>
    private long _completeThrough = -1;

    public IEnumerable<RoomMembership> All => _current.Values;

    public IEnumerable<RoomMembership> WithMembership(string membership) =>
        _current.Values.Where(room => room.Membership == membership);

    public RoomMembership? Get(string roomId) => _current.GetValueOrDefault(roomId);

    /// <summary>
    /// Makes the list hold every membership change up to <paramref name="position"/>, a position the caller read from
    /// the store before this call (positions become visible in order, so a query after it sees every change up to it).
    /// A computation that reads events up to a position must not use an older list: a membership change whose notice
    /// has not arrived yet (a join whose room sends its events through another path) would be read past unseen.
    /// </summary>
    public async Task EnsureCompleteThroughAsync(long position, CancellationToken cancellationToken)
    {
        if (_loaded && _completeThrough >= position) return;
        await LoadAsync(cancellationToken);
        _completeThrough = Math.Max(_completeThrough, position);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var entries = await store.State.GetRoomsOfUserAsync(userId, null, cancellationToken);
        // Read after the query, so every loaded member event is at or before it (even one committed ahead of the
        // persisted-up-to position, while an append of another room is still in flight).
        var bound = await store.Events.GetAllocatedGlobalPositionAsync(cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            seen.Add(entry.RoomId);
            if (_current.TryGetValue(entry.RoomId, out var known) && known.EventId == entry.EventId) continue;
            var loaded = new RoomMembership(entry.RoomId, entry.Membership, entry.EventId, bound);
            if (known is not null)
            {
                // A change seen while active: exact positions keep "membership at the since token" answerable.
                await PositionOfAsync(known, cancellationToken);
                await PositionOfAsync(loaded, cancellationToken);
                Remember(known);
            }
            _current[entry.RoomId] = loaded;
        }
        foreach (var gone in _current.Keys.Where(roomId => !seen.Contains(roomId)).ToList())
        {
            await PositionOfAsync(_current[gone], cancellationToken);
            Remember(_current[gone]);
            _current.Remove(gone);
        }
        _loaded = true;
    }

    /// <summary>Whether the user's member event in the room is after <paramref name="position"/> (looks its position up only when needed).</summary>
    public async Task<bool> ChangedAfterAsync(RoomMembership room, long position, CancellationToken cancellationToken) =>
        room.NotAfter > position && await PositionOfAsync(room, cancellationToken) > position;

    /// <summary>The global position of the user's current member event in the room (looked up once).</summary>
    public async Task<long> PositionOfAsync(RoomMembership room, CancellationToken cancellationToken)
    {
        if (room.Position is { } known) return known;
        var memberEvent = await store.Events.GetEventAsync(room.EventId, cancellationToken);
        room.Position = memberEvent?.GlobalPosition ?? 0;
        return room.Position.Value;
    }

    /// <summary>The user's membership in the room just after global position <paramref name="position"/>, or null when unknown.</summary>
    public async Task<string?> MembershipAtAsync(string roomId, long position, CancellationToken cancellationToken)
    {
        if (_current.TryGetValue(roomId, out var current)
            && (current.NotAfter <= position || await PositionOfAsync(current, cancellationToken) <= position))
        {
            return current.Membership;
        }
        if (!_replaced.TryGetValue(roomId, out var earlier)) return null;
        return earlier.LastOrDefault(room => room.Position is { } at && at <= position)?.Membership;
    }

    private void Remember(RoomMembership replaced)
    {
        if (!_replaced.TryGetValue(replaced.RoomId, out var list)) _replaced[replaced.RoomId] = list = [];
        list.Add(replaced);
    }
}
