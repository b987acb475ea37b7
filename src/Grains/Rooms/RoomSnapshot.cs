using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// One version of a room as its grain knows it: current state, last position and forward extremity. Immutable,
/// so readers keep using the snapshot they took while the writer publishes the next one.
/// </summary>
internal sealed class RoomSnapshot
{
    private readonly Lazy<IReadOnlyList<string>> _joinedMembers;

    public RoomSnapshot(
        string roomId, RoomVersion version, ImmutableDictionary<StateEventKey, Pdu> state,
        long lastPosition, EventId? lastEventId, long depth)
    {
        RoomId = roomId;
        Version = version;
        State = state;
        LastPosition = lastPosition;
        LastEventId = lastEventId;
        Depth = depth;
        _joinedMembers = new Lazy<IReadOnlyList<string>>(() => MembersWith(Membership.Join));
    }

    public static RoomSnapshot Empty(string roomId, RoomVersion version) =>
        new(roomId, version, ImmutableDictionary<StateEventKey, Pdu>.Empty, 0, null, 0);

    public string RoomId { get; }

    public RoomVersion Version { get; }

    public ImmutableDictionary<StateEventKey, Pdu> State { get; }

    /// <summary>Per-room position of the newest event; 0 before the create event is written.</summary>
    public long LastPosition { get; }

    /// <summary>The newest event, the only forward extremity of the linear timeline.</summary>
    public EventId? LastEventId { get; }

    /// <summary>The newest event's content hash, which room versions 1 and 2 cite with its ID in prev_events.</summary>
    public string? LastEventContentHash { get; init; }

    /// <summary>The room's greatest depth: of its deepest forward extremity (a local event's depth is one more).</summary>
    public long Depth { get; }

    /// <summary>
    /// The forward extremities when other servers' events forked the room (docs/adr/0041); empty while the room is
    /// linear, when <see cref="LastEventId"/> is the only one and the current state is the state after it.
    /// </summary>
    public ImmutableList<Forks.ForwardExtremity> Extremities { get; init; } = [];

    public bool IsForked => !Extremities.IsEmpty;

    /// <summary>A room exists for its users once its create event is written.</summary>
    public bool Exists => LastPosition > 0;

    public IReadOnlyList<string> JoinedMembers => _joinedMembers.Value;

    public string MembershipOf(string userId) => State.MembershipOf(userId);

    public bool IsJoined(string userId) => MembershipOf(userId) == Membership.Join;

    public Pdu? Get(string type, string stateKey = "") => State.Get(new StateEventKey(type, stateKey));

    public string? ContentString(string type, string key) => Get(type)?.GetContentString(key);

    public string HistoryVisibility => HistoryVisibilities.Normalize(ContentString(EventTypes.HistoryVisibility, "history_visibility"));

    public PowerLevels PowerLevels => PowerLevels.FromState(Version, State);

    public bool CanSendState(string userId, string eventType) =>
        IsJoined(userId) && PowerLevels.UserLevel(userId) >= PowerLevels.RequiredLevel(eventType, isState: true);

    private IReadOnlyList<string> MembersWith(string membership) =>
        State.Where(entry => entry.Key.Type == EventTypes.Member && entry.Value.GetContentString("membership") == membership)
            .Select(entry => entry.Key.StateKey)
            .Order(StringComparer.Ordinal)
            .ToList();
}
