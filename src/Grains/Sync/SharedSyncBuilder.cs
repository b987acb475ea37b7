using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync.Filtering;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Builds an incremental response from the rooms' shared events alone, without reading the store, when those events
/// are all the response would hold and the store path would write them the same way: joined rooms only, a timeline
/// that is not limited, no member or redaction events (they change state, summaries and earlier events), no lazy-loaded
/// member the device may lack. Returns null whenever the store must answer instead.
/// </summary>
internal sealed class SharedSyncBuilder(UserRooms rooms, LazyMembers lazyMembers, string deviceId, SyncFilter filter)
{
    /// <param name="news">The events newer than the token and not delivered to it, by room (<see cref="FeedBuffer.NewsFor"/>).</param>
    /// <param name="typing">The typing lists that changed since the token, by joined room.</param>
    /// <param name="nextBatch">The token the response answers with: it counts the news as delivered.</param>
    public SyncResult? TryBuild(
        SyncToken since, IReadOnlyList<(string RoomId, List<SharedEvent> Events)> news,
        IReadOnlyDictionary<string, IReadOnlyList<string>> typing, SyncToken nextBatch)
    {
        var result = new SyncResult(nextBatch);
        var joined = new Dictionary<string, JoinedRoomResult>(StringComparer.Ordinal);
        foreach (var (roomId, events) in news)
        {
            // The store path does not look at rooms the filter leaves out: their events are consumed unseen.
            if (!filter.Room.MatchesRoom(roomId)) continue;
            if (!WasJoinedAt(roomId, since.Events)) return null;
            if (events.Any(e => e.Type is EventTypes.Member or EventTypes.Redaction)) return null;
            var timeline = events.Where(e => filter.Room.Timeline.Matches(roomId, e.Type, e.Sender, () => e.ContentHasUrl)).ToList();
            if (timeline.Count > filter.TimelineLimit || MayNeedLazyMembers(roomId, timeline)) return null;
            if (timeline.Count == 0) continue;
            joined[roomId] = new JoinedRoomResult(roomId)
            {
                SharedTimeline = new SharedTimelineResult(timeline, RoomStreamToken.Format(timeline[0].RoomPosition - 1)),
            };
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
        return result;
    }

    /// <summary>Whether the user was already joined at the token, as far as known without the store (else the room may be newly joined).</summary>
    private bool WasJoinedAt(string roomId, long position) =>
        rooms.Get(roomId) is { Membership: Membership.Join } room
        && (room.NotAfter <= position || room.Position is { } joinedAt && joinedAt <= position);

    /// <summary>With lazy-loading, whether the store path could add a sender's member event to the state section.</summary>
    private bool MayNeedLazyMembers(string roomId, List<SharedEvent> timeline)
    {
        var state = filter.Room.State;
        if (!state.LazyLoadMembers || timeline.Count == 0 || !state.MatchesRoom(roomId) || !state.Matches(EventTypes.Member, null)) return false;
        return timeline.Any(e => state.IncludeRedundantMembers || !lazyMembers.WasSent(deviceId, roomId, e.Sender));
    }
}
