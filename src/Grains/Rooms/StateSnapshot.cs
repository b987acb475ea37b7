using System.Buffers;
using HomeServer.Grains.Events;
using HomeServer.Grains.Sync;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Names one version of a room's state: the position of its last state event, and of the last redaction it reflects
/// (a redaction can change a state event without a new one).
/// </summary>
internal readonly record struct StateVersion(long StateEventPosition, long RedactionPosition)
{
    public override string ToString() =>
        RedactionPosition == 0 ? $"{StateEventPosition}" : $"{StateEventPosition}r{RedactionPosition}";
}

/// <summary>
/// One version of a room's state, pre-serialised: each state event in client format written once, the member events
/// indexed by user id (lazy-loading picks them without a rebuild), and the members in stream order for room
/// summaries. Immutable, shared by every reader of the version; the /state body is joined from the fragments once.
/// </summary>
internal sealed class StateSnapshot
{
    private readonly IReadOnlyList<SyncStateEvent> _nonMembers;
    private readonly Dictionary<string, SyncStateEvent> _members;
    private readonly IReadOnlyList<(string UserId, string? Membership)> _membersInStreamOrder;
    private readonly Lazy<byte[]> _stateJson;
    private readonly Lazy<byte[]> _syncEventsJson;
    private readonly bool _named;

    private StateSnapshot(
        StateVersion version, IReadOnlyList<SyncStateEvent> events, IReadOnlyList<SyncStateEvent> syncEvents,
        IReadOnlyList<(string UserId, string? Membership)> membersInStreamOrder, bool named)
    {
        _named = named;
        Version = version;
        Events = events;
        SyncEvents = syncEvents;
        _nonMembers = syncEvents.Where(e => e.Type != EventTypes.Member).ToList();
        _members = syncEvents.Where(e => e.Type == EventTypes.Member).ToDictionary(e => e.StateKey, StringComparer.Ordinal);
        _membersInStreamOrder = membersInStreamOrder;
        JoinedMemberCount = membersInStreamOrder.Count(m => m.Membership == Membership.Join);
        InvitedMemberCount = membersInStreamOrder.Count(m => m.Membership == Membership.Invite);
        _stateJson = new Lazy<byte[]>(() => JoinArray(Events, "["u8, "]"u8));
        _syncEventsJson = new Lazy<byte[]>(() => JoinArray(SyncEvents, ""u8, ""u8));
    }

    public StateVersion Version { get; }

    /// <summary>Every state event, ordered by type and state key.</summary>
    public IReadOnlyList<SyncStateEvent> Events { get; }

    /// <summary><see cref="Events"/> as /sync writes them (no room_id), copied into responses byte for byte.</summary>
    public IReadOnlyList<SyncStateEvent> SyncEvents { get; }

    public int JoinedMemberCount { get; }

    public int InvitedMemberCount { get; }

    /// <summary>
    /// <see cref="SyncEvents"/> comma-separated, without brackets: the events of a whole /sync state section, which
    /// responses reference instead of copying (docs/adr/0027).
    /// </summary>
    public byte[] SyncEventsJson => _syncEventsJson.Value;

    /// <summary>The body of GET /rooms/{roomId}/state.</summary>
    public byte[] StateJson => _stateJson.Value;

    /// <param name="state">The state of <paramref name="version"/>.</param>
    /// <param name="history">The room's history up to at least the version, for the stream order of member events.</param>
    public static StateSnapshot Build(StateVersion version, IReadOnlyDictionary<StateEventKey, Pdu> state, RoomHistory history)
    {
        var ordered = state.Values
            .OrderBy(pdu => pdu.Type, StringComparer.Ordinal)
            .ThenBy(pdu => pdu.StateKey, StringComparer.Ordinal)
            .ToList();
        var events = ordered.Select(pdu => ToFragment(pdu, ClientEventOptions.Shared)).ToList();
        var syncEvents = ordered.Select(pdu => ToFragment(pdu, ClientEventOptions.SharedForSync)).ToList();
        var membersInStreamOrder = events
            .Where(e => e.Type == EventTypes.Member)
            .OrderBy(e => history.MemberEventPosition(e.StateKey, version.StateEventPosition))
            .Select(e => (e.StateKey, e.Membership))
            .ToList();
        var named = RoomStateReader.IsNamed(
            state.GetValueOrDefault(new StateEventKey("m.room.name", ""))?.GetContentString("name"),
            state.GetValueOrDefault(new StateEventKey("m.room.canonical_alias", ""))?.GetContentString("alias"));
        return new StateSnapshot(version, events, syncEvents, membersInStreamOrder, named);
    }

    /// <summary>The non-member state and the member events of <paramref name="userIds"/> (those that have one), as /sync writes them.</summary>
    public IReadOnlyList<SyncStateEvent> WithMembersOf(IEnumerable<string> userIds)
    {
        var selected = new List<SyncStateEvent>(_nonMembers);
        foreach (var userId in userIds.Distinct(StringComparer.Ordinal))
        {
            if (_members.TryGetValue(userId, out var member)) selected.Add(member);
        }
        return selected;
    }

    /// <summary>
    /// m.heroes: up to 5 joined or invited members other than the user, in stream order; else those who left. Null when
    /// the room has a name or canonical alias (<see cref="RoomStateReader.IsNamed"/>).
    /// </summary>
    public IReadOnlyList<string>? HeroesFor(string userId) => _named ? null : RoomStateReader.Heroes(_membersInStreamOrder, userId);

    /// <summary>The body of GET /rooms/{roomId}/members: the member events whose membership passes, by user id.</summary>
    public byte[] MembersJson(Func<string?, bool> membershipMatches) =>
        JoinArray(Events.Where(e => e.Type == EventTypes.Member && membershipMatches(e.Membership)), "{\"chunk\":["u8, "]}"u8);

    private static SyncStateEvent ToFragment(Pdu pdu, ClientEventOptions options) =>
        new(pdu.EventId.Value, pdu.Type, pdu.StateKey!, pdu.Sender.Value, OriginServerTs(pdu),
            pdu.Type == EventTypes.Member ? pdu.GetContentString("membership") : null,
            ClientEventWriter.WriteOne(pdu, options));

    private static long OriginServerTs(Pdu pdu) =>
        pdu.Json.TryGetProperty("origin_server_ts", out var ts) && ts.TryGetInt64(out var value) ? value : 0;

    /// <summary>Copies the fragments between <paramref name="open"/> and <paramref name="close"/>, comma-separated.</summary>
    private static byte[] JoinArray(IEnumerable<SyncStateEvent> events, ReadOnlySpan<byte> open, ReadOnlySpan<byte> close)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        buffer.Write(open);
        var first = true;
        foreach (var e in events)
        {
            if (!first) buffer.Write(","u8);
            buffer.Write(e.Json);
            first = false;
        }
        buffer.Write(close);
        return buffer.WrittenSpan.ToArray();
    }
}
