using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>Room state for sync responses, derived from the store's current state.</summary>
internal sealed class RoomStateReader(IHomeServerStore store)
{
    private const string MemberType = "m.room.member";

    /// <summary>The state types a user sees of a room they are invited to (stripped state), besides their own invite.</summary>
    private static readonly HashSet<string> InviteStateTypes = new(StringComparer.Ordinal)
    {
        "m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias", "m.room.encryption",
    };

    public Task<IReadOnlyList<StoredEvent>> CurrentAsync(string roomId, CancellationToken cancellationToken) =>
        store.State.GetCurrentStateAsync(roomId, cancellationToken);

    /// <summary>
    /// The state just before global position <paramref name="before"/>: the current state, where a slot whose current
    /// event is at or after that point is walked back through <c>unsigned.replaces_state</c> when the room recorded it,
    /// and otherwise left out (its later value is in the timeline or comes with a later sync).
    /// </summary>
    public async Task<List<StoredEvent>> BeforeAsync(IReadOnlyList<StoredEvent> current, long before, CancellationToken cancellationToken)
    {
        var state = new List<StoredEvent>(current.Count);
        foreach (var slot in current)
        {
            StoredEvent? candidate = slot;
            while (candidate is not null && candidate.GlobalPosition >= before)
            {
                var replaced = StoredEventFacts.ReplacesState(candidate);
                candidate = replaced is null ? null : await store.Events.GetEventAsync(replaced, cancellationToken);
            }
            if (candidate is not null) state.Add(candidate);
        }
        return state;
    }

    /// <summary>m.heroes (up to 5 joined or invited members other than the user, in stream order; else those who left) and the counts.</summary>
    public static RoomSummary Summarize(IReadOnlyList<StoredEvent> current, string userId)
    {
        var members = current.Where(e => e.Type == MemberType && e.StateKey is not null).OrderBy(e => e.GlobalPosition).ToList();
        var joined = members.Count(e => e.Membership == "join");
        var invited = members.Count(e => e.Membership == "invite");
        var others = members.Where(e => e.StateKey != userId).ToList();
        var heroes = others.Where(e => e.Membership is "join" or "invite").Select(e => e.StateKey!).Take(5).ToList();
        if (heroes.Count == 0) heroes = others.Where(e => e.Membership is "leave" or "ban").Select(e => e.StateKey!).Take(5).ToList();
        return new RoomSummary(heroes, joined, invited);
    }

    /// <summary>The stripped state of a room the user is invited to: the room's descriptive state and the invite itself.</summary>
    public async Task<List<StoredEvent>> InviteStateAsync(string roomId, string userId, CancellationToken cancellationToken)
    {
        var current = await CurrentAsync(roomId, cancellationToken);
        return current
            .Where(e => (InviteStateTypes.Contains(e.Type) && e.StateKey == "") || (e.Type == MemberType && e.StateKey == userId))
            .ToList();
    }

    public Task<StoredEvent?> MemberAsync(string roomId, string userId, CancellationToken cancellationToken) =>
        store.State.GetStateEventAsync(roomId, MemberType, userId, cancellationToken);
}
