using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>What a sync grain asks a room for the state section of a joined room (initial sync, full_state).</summary>
/// <param name="UserId">The syncing user: the summary's heroes are the other members.</param>
/// <param name="TimelineStart">The per-room position of the timeline's first event; the state is the state just before it.</param>
/// <param name="TimelineEnd">The per-room position of the timeline's last event; the room answers only when it knows it.</param>
/// <param name="Members">
/// With lazy-loading members, the users whose member events are wanted (the room adds the heroes); null for all.
/// </param>
[GenerateSerializer, Alias("hs.SyncStateQuery")]
public sealed record SyncStateQuery(string UserId, long TimelineStart, long TimelineEnd, IReadOnlyList<string>? Members);

/// <summary>
/// One state event in the client format of /sync (event_id but no room_id, no unsigned.age), serialised once per
/// state version and copied unchanged into every response that includes it.
/// </summary>
[GenerateSerializer, Immutable, Alias("hs.SyncStateEvent")]
public sealed record SyncStateEvent(
    string EventId, string Type, string StateKey, string Sender, long OriginServerTs, string? Membership, byte[] Json);

/// <summary>The state section of a joined room and the room summary, from the room's cached snapshot.</summary>
/// <param name="StateVersion">The cached snapshot the events come from (see docs/adr/0009-state-snapshot-cache.md).</param>
/// <param name="Heroes">m.heroes for the user, from the current state; null when the room has a name or canonical alias.</param>
[GenerateSerializer, Immutable, Alias("hs.SyncStateSection")]
public sealed record SyncStateSection(
    string StateVersion, IReadOnlyList<SyncStateEvent> Events, IReadOnlyList<string>? Heroes, int JoinedMemberCount, int InvitedMemberCount)
{
    /// <summary>
    /// The JSON of every event of <see cref="Events"/>, comma-separated: one array per state version, shared by every
    /// response that carries that whole state, which references it instead of copying (docs/adr/0027). Set only when
    /// <see cref="Events"/> is the whole state. Deliberately not serialised: a caller on another silo gets null and
    /// copies the events' own JSON.
    /// </summary>
    [field: NonSerialized]
    public byte[]? SharedEventsJson { get; init; }
}
