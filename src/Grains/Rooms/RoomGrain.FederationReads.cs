using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The history reads other servers ask of the room: <c>/backfill</c>, <c>/get_missing_events</c>, <c>/event_auth</c>
/// and <c>/timestamp_to_event</c>. Each answers only a server with a member joined now, and gives only the events
/// history visibility lets one of that server's users see (docs/adr/0039-federation-reads.md). The room is linear
/// (docs/adr/0006): every event's only previous event is the one before it in the log, so walking prev_events is
/// reading the log backwards.
/// </summary>
public sealed partial class RoomGrain
{
    public async Task<byte[]> BackfillForServerAsync(string origin, IReadOnlyList<string> fromEventIds, int limit)
    {
        var snapshot = RequireServerInRoom(origin);
        var newest = 0L;
        foreach (var id in fromEventIds) newest = Math.Max(newest, (await RequireEventInRoomAsync(id)).RoomPosition);
        var events = await store.Events.GetRoomEventsAsync(RoomId, newest + 1, Direction.Backward, limit, CancellationToken.None);
        var visible = await VisibleToServerAsync(snapshot, origin, events);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("origin", server.Name);
            writer.WriteNumber("origin_server_ts", Clock());
            WriteFederationEvents(writer, "pdus", visible.Select(ToPdu));
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetMissingEventsForServerAsync(string origin, MissingEventsQuery query)
    {
        var snapshot = RequireServerInRoom(origin);
        var latest = 0L;
        foreach (var id in query.LatestEvents) latest = Math.Max(latest, (await RequireEventInRoomAsync(id)).RoomPosition);
        // The walk stops at the newest event the sender already has; ids this room does not hold stop nothing.
        var earliest = 0L;
        foreach (var id in query.EarliestEvents)
        {
            if (!Identifiers.EventId.TryParse(id, out _)) continue;
            var known = await store.Events.GetEventAsync(id, CancellationToken.None);
            if (known is not null && known.RoomId == RoomId && known.RoomPosition < latest) earliest = Math.Max(earliest, known.RoomPosition);
        }

        var walked = new List<StoredEvent>();
        var page = await store.Events.GetRoomEventsAsync(RoomId, latest, Direction.Backward, query.Limit, CancellationToken.None);
        foreach (var e in page)
        {
            if (e.RoomPosition <= earliest || DepthOf(e) < query.MinDepth) break;
            walked.Add(e);
        }
        walked.Reverse(); // Oldest first: the walk went backwards from latest_events.
        var visible = await VisibleToServerAsync(snapshot, origin, walked);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            WriteFederationEvents(writer, "events", visible.Select(ToPdu));
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetEventAuthForServerAsync(string origin, string eventId)
    {
        var snapshot = RequireServerInRoom(origin);
        var stored = await RequireEventInRoomAsync(eventId);
        var chain = await AuthChainAsync([ToPdu(stored)], snapshot.State);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            WriteFederationEvents(writer, "auth_chain", chain);
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetEventByTimestampForServerAsync(string origin, long timestamp, bool forward)
    {
        var snapshot = RequireServerInRoom(origin);
        var history = await GetHistoryAsync(snapshot);
        var users = UsersOfServer(history, origin);
        return await FindEventByTimestampAsync(snapshot, timestamp, forward, e => ServerCanSee(history, snapshot, users, e));
    }

    public async Task<ServerRoomPreview?> GetPreviewForServerAsync(string origin)
    {
        if (_writer.Current is not { Exists: true } snapshot) return null;
        var summary = await GetPublicSummaryAsync();
        var suffix = ":" + origin;
        var accessible = await MayPreviewAsync(snapshot, null, null)
                         || IsRestricted(snapshot)
                         || snapshot.JoinedMembers.Any(member => member.EndsWith(suffix, StringComparison.Ordinal))
                         || snapshot.State.Any(entry => entry.Key.Type == EventTypes.Member && entry.Key.StateKey.EndsWith(suffix, StringComparison.Ordinal)
                                                        && entry.Value.GetContentString("membership") == Membership.Invite);
        return new ServerRoomPreview(BuildPreview(snapshot, summary!, null), accessible);
    }

    /// <summary>The events one of the origin's users may see (the spec's "Server behaviour" of history visibility), in order.</summary>
    private async Task<List<StoredEvent>> VisibleToServerAsync(RoomSnapshot snapshot, string origin, IReadOnlyList<StoredEvent> events)
    {
        var history = await GetHistoryAsync(snapshot);
        var users = UsersOfServer(history, origin);
        return events.Where(e => e.RoomPosition <= history.UpToPosition && ServerCanSee(history, snapshot, users, e)).ToList();
    }

    private static List<string> UsersOfServer(RoomHistory history, string origin) =>
        history.UsersWithMembership.Where(user => UserId.TryParse(user, out var parsed) && parsed.Server.ToString() == origin).ToList();

    private static bool ServerCanSee(RoomHistory history, RoomSnapshot snapshot, List<string> users, StoredEvent e) =>
        users.Any(user => history.CanSee(user, snapshot.IsJoined(user), e.RoomPosition, e.Type, e.StateKey));

    private static long DepthOf(StoredEvent e) => ToPdu(e).Json.TryGetProperty("depth", out var depth) && depth.TryGetInt64(out var value) ? value : 0;
}
