using System.Net;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Other servers read a forked room of B: /backfill and /get_missing_events walk prev_events, so a branch's answer holds
/// its own ancestors and not the other branch's events, which the log interleaves with them; /state_ids and /state at an
/// event give the state on that event's branch; a rejected event is kept as such, and events citing it are accepted
/// against the state before it (docs/adr/0047).
/// </summary>
public abstract class GraphReadTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const string Federation = "/_matrix/federation/v1";

    [Fact]
    public async Task Backfill_from_one_branch_gives_its_ancestors_and_not_the_other_branchs_events()
    {
        var room = await ForkedRoomAsync();

        var fromA = await BackfillAsync(room.RoomId, room.Version, [room.A2], 5);
        Assert.Equal([room.A2, room.A1, room.Point, .. room.BeforePoint.Take(2)], fromA);

        var fromB = await BackfillAsync(room.RoomId, room.Version, [room.B1], 4);
        Assert.Equal([room.B1, room.BTopic, room.Point, room.BeforePoint[0]], fromB);

        // From the merge: both branches, deepest first, the later arrival first among equal depths.
        var fromMerge = await BackfillAsync(room.RoomId, room.Version, [room.Merge], 6);
        Assert.Equal([room.Merge, room.A2, room.B1, room.A1, room.BTopic, room.Point], fromMerge);

        // Several v events: each included, their ancestors once.
        var fromBoth = await BackfillAsync(room.RoomId, room.Version, [room.A1, room.BTopic], 3);
        Assert.Equal([room.A1, room.BTopic, room.Point], fromBoth);
    }

    [Fact]
    public async Task Get_missing_events_across_a_fork_gives_exactly_the_events_between_oldest_first()
    {
        var room = await ForkedRoomAsync();

        Assert.Equal([room.BTopic, room.A1, room.B1, room.A2], await MissingAsync(room.RoomId, room.Version, [room.Point], [room.Merge]));
        // From branch A's head: only its own events after the point; B's, though earlier in the log, are not before it.
        Assert.Equal([room.A1], await MissingAsync(room.RoomId, room.Version, [room.Point], [room.A2]));
        // The earliest events stop only their own branch.
        Assert.Equal([.. room.BeforePoint.Take(2).Reverse(), room.Point, room.A1, room.A2],
            await MissingAsync(room.RoomId, room.Version, [room.B1], [room.Merge], limit: 5));
    }

    [Fact]
    public async Task Get_missing_events_honours_limit_and_min_depth_across_a_fork()
    {
        var room = await ForkedRoomAsync();

        // The limit keeps the events nearest latest_events: the heads of both branches.
        Assert.Equal([room.B1, room.A2], await MissingAsync(room.RoomId, room.Version, [room.Point], [room.Merge], limit: 2));
        // min_depth: nothing below the first events after the fork point, without any earliest event.
        Assert.Equal([room.BTopic, room.A1, room.B1, room.A2], await MissingAsync(room.RoomId, room.Version, [], [room.Merge], minDepth: room.PointDepth + 1));
        Assert.Equal([room.B1, room.A2], await MissingAsync(room.RoomId, room.Version, [], [room.Merge], minDepth: room.PointDepth + 2));
    }

    [Fact]
    public async Task State_ids_and_state_at_an_event_give_the_state_of_its_own_branch()
    {
        var room = await ForkedRoomAsync();

        // On branch A: A's rename of its member, not B's topic.
        var (atA2, chainAtA2) = await StateIdsAsync(room.RoomId, room.A2);
        Assert.Contains(room.A1, atA2);
        Assert.DoesNotContain(room.BTopic, atA2);
        Assert.DoesNotContain(room.Point, atA2);
        Assert.Equal(await StateIdsOfPdusAsync(room.RoomId, room.Version, room.A2), atA2.Order(StringComparer.Ordinal));
        Assert.Contains(room.Point, chainAtA2); // The rename's auth chain holds the join it replaced.

        // On branch B, before the fork arrived in the log: B's topic, A's member as it joined.
        var (atB1, _) = await StateIdsAsync(room.RoomId, room.B1);
        Assert.Contains(room.BTopic, atB1);
        Assert.Contains(room.Point, atB1);
        Assert.DoesNotContain(room.A1, atB1);

        // The first event after the fork on A's side: the state at the point.
        var (atA1, _) = await StateIdsAsync(room.RoomId, room.A1);
        Assert.Contains(room.Point, atA1);
        Assert.DoesNotContain(room.BTopic, atA1);

        // The merge follows both: the resolved state holds both changes, as does the room's current state.
        var (atMerge, _) = await StateIdsAsync(room.RoomId, room.Merge);
        Assert.Contains(room.BTopic, atMerge);
        Assert.Contains(room.A1, atMerge);
        var current = await pair.StoreOfB.State.GetCurrentStateAsync(room.RoomId, CancellationToken.None);
        Assert.Equal(current.Select(e => e.EventId).Order(StringComparer.Ordinal), atMerge.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_rejected_event_is_kept_as_rejected_refused_again_at_once_and_an_event_citing_it_sees_the_state_before_it()
    {
        var user = await TestUsers.CreateAsync(pair.B, "alice");
        var alice = new RoomsClient(pair.ClientFor(pair.B), user);
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var fern = pair.RemoteUser("fern");
        var (version, joinId) = await RemoteJoin.JoinAsync(pair.A, pair.NameOfA, pair.NameOfB, roomId, fern);
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);
        var join = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(joinId.Value, CancellationToken.None))!.Json)!.AsObject();
        var levelsEvent = state.Single(e => e.Type == EventTypes.PowerLevels);
        // A's member, at power 0, raises itself to 100: the rules reject it.
        var raised = JsonNode.Parse(levelsEvent.Json)!["content"]!.AsObject().DeepClone().AsObject();
        raised["users"]![fern] = 100;
        var (rejectedId, rejected) = RemoteEvent(version, state, fern, EventTypes.PowerLevels, raised, "", joinId.Value, join);

        var first = await SendTransactionResultsAsync([rejected]);
        Assert.StartsWith("M_FORBIDDEN", first[rejectedId.Value]!["error"]!.GetValue<string>());
        var kept = await pair.StoreOfB.Forks.GetRejectedAsync(rejectedId.Value, CancellationToken.None);
        Assert.NotNull(kept);
        Assert.Equal(roomId, kept.RoomId);
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(rejectedId.Value, CancellationToken.None));

        var again = await SendTransactionResultsAsync([rejected]);
        Assert.StartsWith("M_FORBIDDEN: The event was rejected before", again[rejectedId.Value]!["error"]!.GetValue<string>());

        // An event citing the rejected one: checked against the state before it, which the rejected event did not change.
        var (citingId, citing) = RemoteEvent(version, state, fern, "m.room.message",
            new JsonObject { ["msgtype"] = "m.text", ["body"] = "after my rejected event" }, null, rejectedId.Value, rejected);
        await SendTransactionAsync([citing]);
        Assert.NotNull(await pair.StoreOfB.Events.GetEventAsync(citingId.Value, CancellationToken.None));
        Assert.Equal(levelsEvent.EventId, (await pair.StoreOfB.State.GetStateEventAsync(roomId, EventTypes.PowerLevels, "", CancellationToken.None))!.EventId);
        var (atCiting, _) = await StateIdsAsync(roomId, citingId.Value);
        Assert.Contains(levelsEvent.EventId, atCiting);
        Assert.Contains(joinId.Value, atCiting);
        Assert.DoesNotContain(rejectedId.Value, atCiting);
        // An event citing the rejected one as an auth event is rejected too.
        var (authById, authBy) = RemoteEvent(version, state, fern, "m.room.message",
            new JsonObject { ["msgtype"] = "m.text", ["body"] = "authorised by my rejected event" }, null, citingId.Value, citing,
            authEvents => authEvents.Select(a => IdOfReference(a) == levelsEvent.EventId ? Reference(version, rejectedId.Value, rejected) : a.DeepClone()));
        var refused = await SendTransactionResultsAsync([authBy]);
        Assert.StartsWith($"M_FORBIDDEN: The auth event {rejectedId.Value} was rejected", refused[authById.Value]!["error"]!.GetValue<string>());
        Assert.NotNull(await pair.StoreOfB.Forks.GetRejectedAsync(authById.Value, CancellationToken.None));

        // Walks of the graph pass through the rejected event without giving it.
        var beforeJoin = (await LogAsync(roomId)).TakeWhile(e => e.EventId != joinId.Value).Last().EventId;
        Assert.Equal([citingId.Value, joinId.Value, beforeJoin], await BackfillAsync(roomId, version, [citingId.Value], 3));
        Assert.Equal([beforeJoin, joinId.Value], await MissingAsync(roomId, version, [], [citingId.Value], limit: 2));
        // B's next event cites its newest event and the citing one, never the rejected event.
        var next = await alice.SendTextAsync(roomId, "after");
        var prevs = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(next, CancellationToken.None))!.Json)!["prev_events"]!.AsArray()
            .Select(p => p is JsonArray reference ? reference[0]!.GetValue<string>() : p!.GetValue<string>()).ToList();
        Assert.Equal(new[] { joinId.Value, citingId.Value }.Order(StringComparer.Ordinal), prevs.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A room of B, forked: A's member joins (the point); B's admin then sets a topic and writes a message; A's member,
    /// not having seen them, renames itself and writes a message after the point; B's admin then writes a message that
    /// merges both branches. The log holds: point, B topic, B message, A rename, A message, merge.
    /// </summary>
    private async Task<ForkedRoom> ForkedRoomAsync()
    {
        var user = await TestUsers.CreateAsync(pair.B, "alice");
        var alice = new RoomsClient(pair.ClientFor(pair.B), user);
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var fern = pair.RemoteUser("fern");
        var (version, joinId) = await RemoteJoin.JoinAsync(pair.A, pair.NameOfA, pair.NameOfB, roomId, fern);
        var log = await LogAsync(roomId);
        Assert.Equal(joinId.Value, log[^1].EventId);
        var point = log[^1];
        var stateAtPoint = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);

        var topic = await alice.SetStateAsync(roomId, "m.room.topic", new JsonObject { ["topic"] = "set on B" });
        var b1 = await alice.SendTextAsync(roomId, "written on B");

        var pointJson = JsonNode.Parse(point.Json)!.AsObject();
        var (a1Id, a1) = RemoteEvent(version, stateAtPoint, fern, EventTypes.Member,
            new JsonObject { ["membership"] = Membership.Join, ["displayname"] = "fern on A" }, fern, point.EventId, pointJson);
        var (a2Id, a2) = RemoteEvent(version, stateAtPoint, fern, "m.room.message",
            new JsonObject { ["msgtype"] = "m.text", ["body"] = "written on A" }, null, a1Id.Value, a1);
        await SendTransactionAsync([a1, a2]);
        var merge = await alice.SendTextAsync(roomId, "after both");

        log = await LogAsync(roomId);
        Assert.Equal(new[] { point.EventId, topic, b1, a1Id.Value, a2Id.Value, merge }, log.TakeLast(6).Select(e => e.EventId));
        var beforePoint = log.TakeWhile(e => e.EventId != point.EventId).Reverse().Select(e => e.EventId).ToList();
        return new ForkedRoom(roomId, version, point.EventId, pointJson["depth"]!.GetValue<long>(), beforePoint, topic, b1, a1Id.Value, a2Id.Value, merge);
    }

    private sealed record ForkedRoom(
        string RoomId, RoomVersion Version, string Point, long PointDepth, IReadOnlyList<string> BeforePoint,
        string BTopic, string B1, string A1, string A2, string Merge);

    /// <summary>An event of A's member after <paramref name="prevId"/>, its auth events from <paramref name="state"/> (A's member's own join among them).</summary>
    private (EventId Id, JsonObject Event) RemoteEvent(RoomVersion version, IReadOnlyList<StoredEvent> state, string sender, string type,
        JsonObject content, string? stateKey, string prevId, JsonObject prev, Func<IEnumerable<JsonNode>, IEnumerable<JsonNode>>? changeAuthEvents = null)
    {
        var wanted = AuthEventSelector.RequiredStateKeys(type, stateKey, UserId.Parse(sender), content);
        var authEvents = state.Where(e => e.StateKey is not null && wanted.Contains(new StateEventKey(e.Type, e.StateKey)))
            .Select(e => Reference(version, e.EventId, JsonNode.Parse(e.Json)!.AsObject())).ToArray();
        if (changeAuthEvents is not null) authEvents = changeAuthEvents(authEvents).ToArray();
        var pdu = new JsonObject
        {
            ["auth_events"] = new JsonArray(authEvents),
            ["content"] = content.DeepClone(),
            ["depth"] = prev["depth"]!.GetValue<long>() + 1,
            ["origin"] = pair.NameOfA,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["prev_events"] = new JsonArray(Reference(version, prevId, prev)),
            ["room_id"] = prev["room_id"]!.GetValue<string>(),
            ["sender"] = sender,
            ["type"] = type,
        };
        if (stateKey is not null) pdu["state_key"] = stateKey;
        return FederationEvents.Sign(version, pdu, pair.KeyOfA, pair.NameOfA);
    }

    /// <summary>An event id from room version 3 on; <c>[event_id, {"sha256": content hash}]</c> in versions 1 and 2.</summary>
    private static JsonNode Reference(RoomVersion version, string eventId, JsonObject e) =>
        version.EventIdInEvent
            ? new JsonArray(eventId, new JsonObject { ["sha256"] = e["hashes"]!["sha256"]!.GetValue<string>() })
            : eventId;

    private static string IdOfReference(JsonNode reference) =>
        reference is JsonArray pair ? pair[0]!.GetValue<string>() : reference.GetValue<string>();

    private async Task SendTransactionAsync(JsonObject[] pdus)
    {
        var results = await SendTransactionResultsAsync(pdus);
        Assert.All(results, result => Assert.True(result.Value!.AsObject().Count == 0, results.ToJsonString()));
    }

    private async Task<JsonObject> SendTransactionResultsAsync(JsonObject[] pdus)
    {
        var body = new JsonObject
        {
            ["origin"] = pair.NameOfA,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(pdus.Select(p => (JsonNode)p.DeepClone()).ToArray()),
        };
        return Ok(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put, $"{Federation}/send/{Guid.NewGuid():N}", body, CancellationToken.None))["pdus"]!.AsObject();
    }

    private Task<List<string>> BackfillAsync(ForkedRoom room, string from, int limit) => BackfillAsync(room.RoomId, room.Version, [from], limit);

    private async Task<List<string>> BackfillAsync(string roomId, RoomVersion version, string[] from, int limit)
    {
        var query = string.Join("&", from.Select(id => $"v={E(id)}"));
        var body = Ok(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"{Federation}/backfill/{E(roomId)}?{query}&limit={limit}", null, CancellationToken.None));
        return body["pdus"]!.AsArray().Select(p => IdOf(version, p!.AsObject())).ToList();
    }

    private async Task<List<string>> MissingAsync(string roomId, RoomVersion version, string[] earliest, string[] latest, int? limit = null, long? minDepth = null)
    {
        var request = new JsonObject { ["earliest_events"] = Ids(earliest), ["latest_events"] = Ids(latest) };
        if (limit is { } l) request["limit"] = l;
        if (minDepth is { } d) request["min_depth"] = d;
        var body = Ok(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Post,
            $"{Federation}/get_missing_events/{E(roomId)}", request, CancellationToken.None));
        return body["events"]!.AsArray().Select(p => IdOf(version, p!.AsObject())).ToList();
    }

    private async Task<(List<string> State, List<string> AuthChain)> StateIdsAsync(string roomId, string eventId)
    {
        var body = Ok(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"{Federation}/state_ids/{E(roomId)}?event_id={E(eventId)}", null, CancellationToken.None));
        return (body["pdu_ids"]!.AsArray().Select(id => id!.GetValue<string>()).ToList(),
            body["auth_chain_ids"]!.AsArray().Select(id => id!.GetValue<string>()).ToList());
    }

    /// <summary>The ids of the events <c>/state</c> gives at the event, sorted.</summary>
    private async Task<List<string>> StateIdsOfPdusAsync(string roomId, RoomVersion version, string eventId)
    {
        var body = Ok(await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"{Federation}/state/{E(roomId)}?event_id={E(eventId)}", null, CancellationToken.None));
        return body["pdus"]!.AsArray().Select(p => IdOf(version, p!.AsObject())).Order(StringComparer.Ordinal).ToList();
    }

    private static string IdOf(RoomVersion version, JsonObject pdu) => EventHashing.ComputeEventId(version, pdu).Value;

    private async Task<IReadOnlyList<StoredEvent>> LogAsync(string roomId) =>
        await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None);

    private static string E(string value) => Uri.EscapeDataString(value);

    private static JsonArray Ids(string[] ids) => new(ids.Select(id => (JsonNode)id).ToArray());

    private static JsonObject Ok(Grains.Federation.Transport.FederationResponse response)
    {
        var text = System.Text.Encoding.UTF8.GetString(response.Body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}

public sealed class SqliteGraphReadTests(SqliteFederationPair pair)
    : GraphReadTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresGraphReadTests(PostgresFederationPair pair)
    : GraphReadTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
