using System.Runtime.CompilerServices;
using HomeServer.Grains.Rooms;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Sync;

/// <summary>Room state for sync responses: from the room's cached snapshots where it can, else from the store's current state.</summary>
internal sealed class RoomStateReader(IHomeServerStore store, IGrainFactory grains, SharedCurrentStateReads currentStates)
{
    private const string MemberType = "m.room.member";

    /// <summary>The state types a user sees of a room they are invited to (stripped state), besides their own invite.</summary>
    private static readonly HashSet<string> InviteStateTypes = new(StringComparer.Ordinal)
    {
        "m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias", "m.room.encryption",
    };

    /// <summary>
    /// The state at the start of <paramref name="timeline"/> and the room summary, from the room's pre-serialised
    /// snapshot; null when the timeline is empty or newer than the room grain knows (read the store then).
    /// </summary>
    /// <param name="members">With lazy-loading, the users whose member events are wanted besides the heroes; null for all.</param>
    /// <returns>Also, when the state is whole and the room is on this silo, its events' JSON as one shared array (<see cref="SyncStateSection.SharedEventsJson"/>).</returns>
    public async Task<(IReadOnlyList<StoredEvent> State, RoomSummary Summary, byte[]? SharedJson)?> CachedBeforeAsync(
        string roomId, string userId, IReadOnlyList<StoredEvent> timeline, IReadOnlyList<string>? members)
    {
        if (timeline.Count == 0) return null;
        var query = new SyncStateQuery(userId, timeline[0].RoomPosition, timeline[^1].RoomPosition, members);
        if (await grains.GetGrain<IRoomGrain>(roomId).GetSyncStateAsync(query) is not { } section) return null;
        var state = section.SharedEventsJson is null
            ? section.Events.Select(e => AsStoredEvent(roomId, e)).ToList()
            : SharedStoredEvents.GetValue(section.Events, events => events.Select(e => AsStoredEvent(roomId, e)).ToList());
        return (state, new RoomSummary(section.Heroes, section.JoinedMemberCount, section.InvitedMemberCount), section.SharedEventsJson);
    }

    /// <summary>
    /// A whole state section from a room on this silo is the snapshot's own list, shared by every sync of that state
    /// version (a herd of initial syncs of one room asks for the same one); it is mapped once, not once per response.
    /// </summary>
    private static readonly ConditionalWeakTable<IReadOnlyList<SyncStateEvent>, List<StoredEvent>> SharedStoredEvents = new();

    /// <summary>
    /// A cached state event in the shape the state filter takes; its bytes, already in the /sync client format, stand in
    /// for the stored JSON and are copied into the response unchanged (<see cref="JoinedRoomResult.StateIsPreSerialised"/>).
    /// Full state sections never look at the positions or the redacted flag, which are left at their defaults.
    /// </summary>
    private static StoredEvent AsStoredEvent(string roomId, SyncStateEvent stateEvent) =>
        new(roomId, RoomPosition: 0, GlobalPosition: 0, stateEvent.EventId, stateEvent.Type, stateEvent.StateKey, stateEvent.Sender,
            stateEvent.OriginServerTs, stateEvent.Membership, Redacted: false, stateEvent.Json);

    public Task<IReadOnlyList<StoredEvent>> CurrentAsync(string roomId, CancellationToken cancellationToken) =>
        currentStates.ReadAsync(roomId, cancellationToken);

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

    /// <summary>
    /// The counts, and m.heroes (up to 5 joined or invited members other than the user, in stream order; else those who
    /// left) unless the room has a name or canonical alias.
    /// </summary>
    public static RoomSummary Summarize(IReadOnlyList<StoredEvent> current, string userId)
    {
        var members = current.Where(e => e.Type == MemberType && e.StateKey is not null).OrderBy(e => e.GlobalPosition).ToList();
        var joined = members.Count(e => e.Membership == "join");
        var invited = members.Count(e => e.Membership == "invite");
        var named = IsNamed(ContentOf(current, "m.room.name", "name"), ContentOf(current, "m.room.canonical_alias", "alias"));
        return new RoomSummary(named ? null : Heroes(members.Select(e => (e.StateKey!, e.Membership)), userId), joined, invited);
    }

    /// <summary>
    /// Whether a room with this m.room.name name and m.room.canonical_alias alias needs no heroes. The spec makes heroes
    /// required only when both are unset or empty; like Synapse, none are sent otherwise (clients name the room from them).
    /// </summary>
    public static bool IsNamed(string? name, string? canonicalAlias) => !string.IsNullOrEmpty(name) || !string.IsNullOrEmpty(canonicalAlias);

    private static string? ContentOf(IReadOnlyList<StoredEvent> state, string type, string property) =>
        state.FirstOrDefault(e => e.Type == type && e.StateKey == "") is { } stateEvent ? StoredEventFacts.ContentString(stateEvent, property) : null;

    /// <summary>m.heroes of <paramref name="membersInStreamOrder"/> (user id and membership of each member event) for the user.</summary>
    public static IReadOnlyList<string> Heroes(IEnumerable<(string UserId, string? Membership)> membersInStreamOrder, string userId)
    {
        var others = membersInStreamOrder.Where(m => m.UserId != userId);
        var heroes = others.Where(m => m.Membership is "join" or "invite").Select(m => m.UserId).Take(5).ToList();
        if (heroes.Count == 0) heroes = others.Where(m => m.Membership is "leave" or "ban").Select(m => m.UserId).Take(5).ToList();
        return heroes;
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
