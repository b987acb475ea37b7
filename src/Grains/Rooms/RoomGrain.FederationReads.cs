using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The history reads other servers ask of the room: <c>/backfill</c>, <c>/get_missing_events</c>, <c>/event_auth</c>
/// and <c>/timestamp_to_event</c>. Each answers only a server with a member joined now, and gives only the events
/// history visibility lets one of that server's users see (docs/adr/0039-federation-reads.md). History is read along the
/// event graph, not the log, which interleaves the branches of a forked room (docs/adr/0047).
/// </summary>
public sealed partial class RoomGrain
{
    public async Task<byte[]> BackfillForServerAsync(string origin, IReadOnlyList<string> fromEventIds, int limit)
    {
        var snapshot = RequireServerInRoom(origin);
        var from = new List<StoredEvent>();
        foreach (var id in fromEventIds) from.Add(await RequireEventInRoomAsync(id));
        var events = await EventGraph.BackfillAsync(from, limit, GraphNodeAsync);
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
        var latest = new List<StoredEvent>();
        foreach (var id in query.LatestEvents) latest.Add(await RequireEventInRoomAsync(id));
        var walked = await EventGraph.MissingAsync(latest, query.EarliestEvents, query.Limit, query.MinDepth, GraphNodeAsync);
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

    /// <summary>An event the graph walks reach: one of the timeline, a rejected one to walk through, or null.</summary>
    private async Task<EventGraph.Node?> GraphNodeAsync(string eventId)
    {
        if (await StoredEventInRoomAsync(eventId) is { } stored) return EventGraph.Node.Of(stored);
        return await RejectedEventOfRoomAsync(eventId) is { } rejected // see RoomGrain.Rejections.cs
            ? EventGraph.Node.WalkedThrough(Pdu.Parse(Identifiers.EventId.Parse(eventId), rejected.Json))
            : null;
    }

    /// <summary>An event of this room's timeline by id, or null (unknown, malformed id, another room's).</summary>
    private async Task<StoredEvent?> StoredEventInRoomAsync(string eventId)
    {
        if (!Identifiers.EventId.TryParse(eventId, out _)) return null;
        var stored = await store.Events.GetEventAsync(eventId, CancellationToken.None);
        return stored is not null && stored.RoomId == RoomId ? stored : null;
    }
}
