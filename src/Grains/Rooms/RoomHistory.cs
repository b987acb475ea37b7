using System.Collections.Immutable;
using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Serialization;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>A change of a user's membership or of the room's history visibility, at a per-room position.</summary>
internal readonly record struct HistoryChange(long Position, string Value);

/// <summary>
/// What history visibility needs of a room's past: every membership change of every user and every change of
/// m.room.history_visibility, by position; and, for the state snapshot cache, the positions of every state event and
/// every redaction. Immutable; <see cref="Extend"/> returns a copy that also covers newer events.
/// </summary>
internal sealed class RoomHistory
{
    public static RoomHistory Empty { get; } = new(0, ImmutableDictionary<string, ImmutableList<HistoryChange>>.Empty, [], [], []);

    private readonly ImmutableDictionary<string, ImmutableList<HistoryChange>> _memberships;
    private readonly ImmutableList<HistoryChange> _visibility;
    private readonly ImmutableList<long> _stateEvents;
    private readonly ImmutableList<long> _redactions;

    private RoomHistory(
        long upToPosition, ImmutableDictionary<string, ImmutableList<HistoryChange>> memberships, ImmutableList<HistoryChange> visibility,
        ImmutableList<long> stateEvents, ImmutableList<long> redactions)
    {
        UpToPosition = upToPosition;
        _memberships = memberships;
        _visibility = visibility;
        _stateEvents = stateEvents;
        _redactions = redactions;
    }

    /// <summary>The last position this history covers.</summary>
    public long UpToPosition { get; }

    /// <param name="events">Events after <see cref="UpToPosition"/>, ascending.</param>
    public RoomHistory Extend(IEnumerable<StoredEvent> events)
    {
        var memberships = _memberships.ToBuilder();
        var visibility = _visibility.ToBuilder();
        var stateEvents = _stateEvents.ToBuilder();
        var redactions = _redactions.ToBuilder();
        var upTo = UpToPosition;
        foreach (var e in events)
        {
            if (e.RoomPosition <= upTo) continue;
            upTo = e.RoomPosition;
            if (e.StateKey is not null) stateEvents.Add(e.RoomPosition);
            if (e.Type == EventTypes.Redaction) redactions.Add(e.RoomPosition);
            if (e.Type == EventTypes.Member && e.StateKey is { } userId && e.Membership is { } membership)
            {
                memberships[userId] = (memberships.GetValueOrDefault(userId) ?? []).Add(new HistoryChange(e.RoomPosition, membership));
            }
            else if (e.Type == EventTypes.HistoryVisibility && e.StateKey == "")
            {
                visibility.Add(new HistoryChange(e.RoomPosition, HistoryVisibilities.Normalize(ReadVisibility(e.Json))));
            }
        }
        return new RoomHistory(upTo, memberships.ToImmutable(), visibility.ToImmutable(), stateEvents.ToImmutable(), redactions.ToImmutable());
    }

    /// <summary>
    /// This history with the room's backfilled history before it (docs/adr/0044): membership and visibility changes of
    /// <paramref name="backfilled"/>, events at negative positions, ascending. <paramref name="visibilityBefore"/> is the
    /// visibility in effect before the oldest backfilled visibility change (null: none was ever set, <c>shared</c>).
    /// State event and redaction positions (for the state snapshot cache, which covers the log only) are not extended.
    /// </summary>
    public RoomHistory WithEarlierHistory(IEnumerable<StoredEvent> backfilled, string? visibilityBefore)
    {
        var earlier = new RoomHistory(long.MinValue, ImmutableDictionary<string, ImmutableList<HistoryChange>>.Empty,
            visibilityBefore is null ? [] : [new HistoryChange(long.MinValue, visibilityBefore)], [], []).Extend(backfilled.Where(e => e.RoomPosition < 0));
        var memberships = earlier._memberships.ToBuilder();
        foreach (var (userId, changes) in _memberships)
            memberships[userId] = (memberships.GetValueOrDefault(userId) ?? []).AddRange(changes);
        return new RoomHistory(UpToPosition, memberships.ToImmutable(), earlier._visibility.AddRange(_visibility), _stateEvents, _redactions);
    }

    /// <summary>The position of the last state event at or before <paramref name="position"/>; 0 when there is none.</summary>
    public long LastStateEventAtOrBefore(long position) => LastAtOrBefore(_stateEvents, position);

    /// <summary>The position of the last redaction at or before <paramref name="position"/>; 0 when there is none.</summary>
    public long LastRedactionAtOrBefore(long position) => LastAtOrBefore(_redactions, position);

    private static long LastAtOrBefore(ImmutableList<long> ascending, long position)
    {
        var index = ascending.BinarySearch(position);
        if (index >= 0) return ascending[index];
        var following = ~index;
        return following == 0 ? 0 : ascending[following - 1];
    }

    /// <summary>Every user who ever had a member event in the room.</summary>
    public IEnumerable<string> UsersWithMembership => _memberships.Keys;

    public IReadOnlyList<HistoryChange> MembershipChanges(string userId) => _memberships.GetValueOrDefault(userId) ?? [];

    /// <summary>The position of the user's last member event at or before <paramref name="position"/>; 0 when there is none.</summary>
    public long MemberEventPosition(string userId, long position) =>
        MembershipChanges(userId).LastOrDefault(change => change.Position <= position).Position;

    /// <summary>Whether the user was joined just before the event at <paramref name="position"/> (erasure's rule).</summary>
    public bool WasJoinedWhenSent(string userId, long position) => MembershipBefore(userId, position) == Membership.Join;

    public bool WasEverJoined(string userId) => MembershipChanges(userId).Any(c => c.Value == Membership.Join);

    /// <summary>
    /// Whether the user may see the event at <paramref name="position"/> (the spec's history visibility algorithm):
    /// world_readable history; events while they were joined; shared history when they joined at or after the event
    /// (or are joined now); invited history while they were invited. A visibility change is judged by the more
    /// permissive of the old and new value, and the user's own member event by their membership before or after it.
    /// </summary>
    public bool CanSee(string userId, bool joinedNow, long position, string type, string? stateKey)
    {
        var visibility = VisibilityAt(position, type == EventTypes.HistoryVisibility && stateKey == "");
        var before = MembershipBefore(userId, position);
        var after = type == EventTypes.Member && stateKey == userId ? MembershipAt(userId, position) : before;
        var joinedLater = joinedNow || MembershipChanges(userId).Any(c => c.Position >= position && c.Value == Membership.Join);
        return HistoryVisibilities.Allows(visibility, before, joinedLater) || HistoryVisibilities.Allows(visibility, after, joinedLater);
    }

    private string MembershipAt(string userId, long position)
    {
        var membership = Membership.Leave;
        foreach (var change in MembershipChanges(userId))
        {
            if (change.Position > position) break;
            membership = change.Value;
        }
        return membership;
    }

    /// <summary>The visibility in force for the event; for a visibility change itself the more permissive of old and new.</summary>
    private string VisibilityAt(long position, bool isVisibilityChange)
    {
        var before = HistoryVisibilities.Shared;
        foreach (var change in _visibility)
        {
            if (change.Position < position) before = change.Value;
            else if (change.Position == position && isVisibilityChange)
                return HistoryVisibilities.Rank(change.Value) > HistoryVisibilities.Rank(before) ? change.Value : before;
            else break;
        }
        return before;
    }

    private string MembershipBefore(string userId, long position)
    {
        var membership = Membership.Leave;
        foreach (var change in MembershipChanges(userId))
        {
            if (change.Position >= position) break;
            membership = change.Value;
        }
        return membership;
    }

    private static string? ReadVisibility(byte[] json)
    {
        using var document = JsonDocument.Parse(json, StoredJson.DocumentOptions);
        return document.RootElement.TryGetProperty("content", out var content)
               && content.ValueKind == JsonValueKind.Object
               && content.TryGetProperty("history_visibility", out var value)
               && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }
}
