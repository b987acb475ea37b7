using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Builds an incremental response from the rooms' shared events alone, without reading the store, when those events
/// are all the response would hold and the store path would write them the same way: joined rooms only, a timeline
/// that is not limited, no member or redaction events (they change state, summaries and earlier events). With
/// lazy-loading, the member events of senders the device lacks are read first (<see cref="MissingLazyMembers"/>) and
/// added as the store path adds them. Returns null whenever the store must answer instead.
/// </summary>
internal sealed class SharedSyncBuilder(UserRooms rooms, LazyMembers lazyMembers, string deviceId, SyncFilter filter)
{
    /// <param name="news">The events newer than the token and not delivered to it, by room (<see cref="FeedBuffer.NewsFor"/>).</param>
    /// <param name="typing">The typing lists that changed since the token, by joined room.</param>
    /// <param name="nextBatch">The token the response answers with: it counts the news as delivered.</param>
    /// <param name="members">The current member events of <see cref="MissingLazyMembers"/>, read after the news arrived (null: none).</param>
    public SyncResult? TryBuild(
        SyncToken since, IReadOnlyList<(string RoomId, List<SharedEvent> Events)> news,
        IReadOnlyDictionary<string, IReadOnlyList<string>> typing, SyncToken nextBatch,
        IReadOnlyDictionary<(string RoomId, string UserId), StoredEvent?> members)
    {
        var result = new SyncResult(nextBatch);
        var joined = new Dictionary<string, JoinedRoomResult>(StringComparer.Ordinal);
        foreach (var (roomId, events) in news)
        {
            // The store path does not look at rooms the filter leaves out: their events are consumed unseen.
            if (!filter.Room.MatchesRoom(roomId)) continue;
            if (!WasJoinedAt(roomId, since.Events)) return null;
            if (events.Any(e => e.Type is EventTypes.Member or EventTypes.Redaction || e.ResolvesOtherState)) return null;
            var timeline = Timeline(roomId, events);
            if (timeline.Count > filter.TimelineLimit) return null;
            if (timeline.Count == 0) continue;
            var room = new JoinedRoomResult(roomId)
            {
                SharedTimeline = new SharedTimelineResult(timeline, RoomStreamToken.Format(timeline[0].RoomPosition - 1)),
            };
            if (!TryAddLazyMembers(room, timeline, members)) return null;
            joined[roomId] = room;
        }
        foreach (var (roomId, userIds) in typing)
        {
            if (!filter.Room.MatchesRoom(roomId) || !filter.Room.Ephemeral.MatchesRoom(roomId) || !filter.Room.Ephemeral.Matches("m.typing", null))
                continue;
            if (!WasJoinedAt(roomId, since.Events)) return null;
            if (!joined.TryGetValue(roomId, out var room)) joined[roomId] = room = new JoinedRoomResult(roomId);
            room.Typing = userIds;
        }
        result.Joined.AddRange(joined.Values);
        foreach (var room in joined.Values)
        {
            foreach (var member in room.State) lazyMembers.Add(deviceId, room.RoomId, member.StateKey!);
        }
        return result;
    }

    /// <summary>Whether the user was already joined at the token, as far as known without the store (else the room may be newly joined).</summary>
    private bool WasJoinedAt(string roomId, long position) =>
        rooms.Get(roomId) is { Membership: Membership.Join } room
        && (room.NotAfter <= position || room.Position is { } joinedAt && joinedAt <= position);

    /// <summary>
    /// With lazy-loading, the (room, sender) pairs whose member event a response of these news would carry, as the store
    /// path decides it: the timeline's senders the device has not been sent yet (all of them with redundant members).
    /// </summary>
    public IReadOnlyList<(string RoomId, string UserId)> MissingLazyMembers(IReadOnlyList<(string RoomId, List<SharedEvent> Events)> news)
    {
        var state = filter.Room.State;
        if (!state.LazyLoadMembers || !state.Matches(EventTypes.Member, null)) return [];
        var missing = new List<(string RoomId, string UserId)>();
        foreach (var (roomId, events) in news)
        {
            if (!filter.Room.MatchesRoom(roomId) || !state.MatchesRoom(roomId)) continue;
            missing.AddRange(Timeline(roomId, events).Select(e => e.Sender).Distinct(StringComparer.Ordinal)
                .Where(sender => state.IncludeRedundantMembers || !lazyMembers.WasSent(deviceId, roomId, sender))
                .Select(sender => (roomId, sender)));
        }
        return missing;
    }

    /// <summary>
    /// Adds the member events of the timeline's senders the device lacks, each if it precedes the timeline (as the store
    /// path does); they count as sent once the whole response is built. False when one was not read (the store must answer).
    /// </summary>
    private bool TryAddLazyMembers(
        JoinedRoomResult room, List<SharedEvent> timeline, IReadOnlyDictionary<(string RoomId, string UserId), StoredEvent?> members)
    {
        var state = filter.Room.State;
        if (!state.LazyLoadMembers || !state.MatchesRoom(room.RoomId) || !state.Matches(EventTypes.Member, null)) return true;
        foreach (var sender in timeline.Select(e => e.Sender).Distinct(StringComparer.Ordinal))
        {
            if (!state.IncludeRedundantMembers && lazyMembers.WasSent(deviceId, room.RoomId, sender)) continue;
            if (!members.TryGetValue((room.RoomId, sender), out var member)) return false;
            if (member is not null && member.GlobalPosition < timeline[0].GlobalPosition && state.Matches(EventTypes.Member, member.Sender))
                room.State.Add(member);
        }
        return true;
    }

    private List<SharedEvent> Timeline(string roomId, List<SharedEvent> events) =>
        events.Where(e => filter.Room.Timeline.Matches(roomId, e.Type, e.Sender, () => e.ContentHasUrl)).ToList();
}
