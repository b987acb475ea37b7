using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using HomeServer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Another server writes into a room of B at the same moment as B's own users: its events cite older events of the
/// room (forks) or events B never got (gaps). B resolves the state (docs/adr/0041), keeps every branch as a forward
/// extremity until an event cites them all, soft-fails what the current state no longer allows, and shows its local
/// member each accepted event once.
/// </summary>
public abstract class ForkTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_remote_event_forking_from_an_older_event_is_seen_once_and_the_next_local_message_cites_both_branches()
    {
        var (alice, sync, roomId, version) = await LocalRoomAsync();
        var remote = await JoinRemoteAsync(roomId, A, "fern");
        var point = await ForkPointAsync(roomId);
        var local = await alice.SendTextAsync(roomId, "written on B");
        var since = await NextBatchAsync(sync);
        var (forkId, fork) = RemoteEventOn(point, version, remote, "m.room.message", Text("written on A meanwhile"));

        var results = await SendTransactionOkAsync([fork]);

        Assert.True(results[forkId.Value]!.AsObject().Count == 0, results.ToJsonString());
        Assert.Equal([forkId.Value], (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(EventIdOf));
        var extremities = await pair.StoreOfB.Forks.GetForwardExtremitiesAsync(roomId, CancellationToken.None);
        Assert.Equal(new[] { local, forkId.Value }.Order(StringComparer.Ordinal), extremities.Select(e => e.EventId));

        var afterFork = await NextBatchAsync(sync);
        var merge = await alice.SendTextAsync(roomId, "after both");

        var stored = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(merge, CancellationToken.None))!.Json)!;
        Assert.Equal(new[] { local, forkId.Value }.Order(StringComparer.Ordinal),
            stored["prev_events"]!.AsArray().Select(p => p!.GetValue<string>()).Order(StringComparer.Ordinal));
        var localDepth = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(local, CancellationToken.None))!.Json)!["depth"]!.GetValue<long>();
        Assert.Equal(Math.Max(localDepth, fork["depth"]!.GetValue<long>()) + 1, stored["depth"]!.GetValue<long>());
        Assert.Empty(await pair.StoreOfB.Forks.GetForwardExtremitiesAsync(roomId, CancellationToken.None));
        Assert.Equal([merge], (await FederationTimelines.TimelineSinceAsync(sync, afterFork, roomId)).Select(EventIdOf));
    }

    [Fact]
    public async Task A_remote_power_change_forked_before_a_local_ban_wins_by_state_resolution_and_the_local_member_sees_the_resolved_state()
    {
        var (alice, sync, roomId, version) = await LocalRoomAsync();
        var admin = await JoinRemoteAsync(roomId, A, "rhea");
        var target = await JoinRemoteAsync(roomId, A, "milo");
        var levels = JsonNode.Parse((await alice.GetStateEventAsync(roomId, EventTypes.PowerLevels)).GetRawText())!.AsObject();
        levels["users"]![admin] = 100;
        await alice.SetStateAsync(roomId, EventTypes.PowerLevels, levels);
        var point = await ForkPointAsync(roomId);
        // A's admin raised the target to 100 a minute before B's admin banned the target: both are power events of
        // senders at 100, so the earlier one is applied first, and then the ban of a user at 100 by a user at 100 fails.
        var raised = (JsonObject)levels.DeepClone();
        raised["users"]![target] = 100;
        var (powerId, power) = RemoteEventOn(point, version, admin, EventTypes.PowerLevels, raised, stateKey: "",
            change: e => e["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000);
        await alice.OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/ban", new { user_id = target });
        Assert.Equal(Membership.Ban, (await alice.GetStateEventAsync(roomId, EventTypes.Member, target)).GetProperty("membership").GetString());
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([power]);

        Assert.True(results[powerId.Value]!.AsObject().Count == 0, results.ToJsonString());
        Assert.Null(await pair.StoreOfB.Forks.GetSoftFailedAsync(powerId.Value, CancellationToken.None));
        Assert.NotNull(await pair.StoreOfB.Events.GetEventAsync(powerId.Value, CancellationToken.None));
        Assert.Equal(Membership.Join, (await alice.GetStateEventAsync(roomId, EventTypes.Member, target)).GetProperty("membership").GetString());
        Assert.Equal(100, (await alice.GetStateEventAsync(roomId, EventTypes.PowerLevels)).GetProperty("users").GetProperty(target).GetInt32());
        // The member's /sync: the power levels in the timeline, and the target's join, which the ban had replaced, in the state.
        var room = await JoinedRoomSinceAsync(sync, since, roomId);
        Assert.Equal([powerId.Value], room.GetProperty("timeline").GetProperty("events").EnumerateArray().Select(EventIdOf));
        var member = Assert.Single(room.GetProperty("state").GetProperty("events").EnumerateArray(),
            e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == target);
        Assert.Equal(Membership.Join, member.GetProperty("content").GetProperty("membership").GetString());
    }

    [Fact]
    public async Task A_remote_message_forked_before_its_sender_was_banned_is_soft_failed_kept_aside_and_not_delivered()
    {
        var (alice, sync, roomId, version) = await LocalRoomAsync();
        var remote = await JoinRemoteAsync(roomId, A, "sol");
        await JoinRemoteAsync(roomId, A, "keeper"); // A stays in the room after the ban.
        var point = await ForkPointAsync(roomId);
        var (messageId, message) = RemoteEventOn(point, version, remote, "m.room.message", Text("sent before the ban"));
        await alice.OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/ban", new { user_id = remote });
        var ban = (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, 1, CancellationToken.None))[0].EventId;
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([message]);

        Assert.True(results[messageId.Value]!.AsObject().Count == 0, results.ToJsonString());
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(messageId.Value, CancellationToken.None));
        Assert.NotNull(await pair.StoreOfB.Forks.GetSoftFailedAsync(messageId.Value, CancellationToken.None));
        Assert.Empty(await pair.StoreOfB.Forks.GetForwardExtremitiesAsync(roomId, CancellationToken.None));
        // Not an extremity: B's next event cites the ban alone.
        var next = await alice.SendTextAsync(roomId, "after");
        var stored = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(next, CancellationToken.None))!.Json)!;
        Assert.Equal([ban], stored["prev_events"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal([next], (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(EventIdOf));
    }

    [Fact]
    public async Task A_forked_event_the_state_before_it_forbids_is_refused_and_nothing_is_stored()
    {
        var (_, sync, roomId, version) = await LocalRoomAsync();
        var beforeJoin = await ForkPointAsync(roomId);
        var remote = await JoinRemoteAsync(roomId, A, "tove");
        var now = await ForkPointAsync(roomId);
        // Cites the event before its sender joined: the sender is no member in the state before it.
        var (eventId, pdu) = RemoteEventOn(beforeJoin with { State = now.State }, version, remote, "m.room.message", Text("from before my join"));
        var since = await NextBatchAsync(sync);
        var events = await EventCountAsync(roomId);

        var results = await SendTransactionOkAsync([pdu]);

        Assert.StartsWith("M_FORBIDDEN", results[eventId.Value]!["error"]!.GetValue<string>());
        Assert.Equal(events, await EventCountAsync(roomId));
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(eventId.Value, CancellationToken.None));
        Assert.Null(await pair.StoreOfB.Forks.GetSoftFailedAsync(eventId.Value, CancellationToken.None));
        Assert.Empty(await pair.StoreOfB.Forks.GetForwardExtremitiesAsync(roomId, CancellationToken.None));
        Assert.Empty(await FederationTimelines.TimelineSinceAsync(sync, since, roomId));
    }

    [Fact]
    public async Task A_gap_of_fifteen_events_is_bridged_through_the_state_at_the_missing_event()
    {
        var served = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var stateIds = new JsonArray();
        var c = await ServerServingStateAsync(served, stateIds);
        var (alice, sync, roomId, version) = await LocalRoomAsync();
        var remote = await JoinRemoteAsync(roomId, c, "ugo");
        var point = await ForkPointAsync(roomId);
        // C's user writes 15 events B never gets; the fifth changes its display name.
        var chain = new List<(EventId Id, JsonObject Event)> { RemoteEventOn(point, version, remote, "m.room.message", Text("missed 1"), from: c) };
        for (var i = 2; i <= 15; i++)
        {
            var (previousId, previous) = chain[^1];
            chain.Add(i == 5
                ? RemoteEventOn(point, version, remote, EventTypes.Member, new JsonObject { ["membership"] = Membership.Join, ["displayname"] = "renamed" },
                    stateKey: remote, from: c, change: e => Follow(version, e, previousId, previous, 1_000))
                : RemoteEventOn(point, version, remote, "m.room.message", Text($"missed {i}"), from: c, change: e => Follow(version, e, previousId, previous, 1_000)));
        }
        var renameId = chain[4].Id;
        var (lastId, last) = chain[^1];
        var (eventId, pdu) = RemoteEventOn(point, version, remote, "m.room.message", Text("after the gap"), from: c, change: e =>
        {
            Follow(version, e, lastId, last, 1_000);
            e["auth_events"] = new JsonArray(e["auth_events"]!.AsArray()
                .Select(id => (JsonNode)(IdOfReference(id!) == point.State.Single(s => s.Type == EventTypes.Member && s.StateKey == remote).EventId
                    ? Reference(version, renameId, chain[4].Event)
                    : id!.DeepClone())).ToArray());
        });
        foreach (var (id, e) in chain) served[id.Value] = e;
        foreach (var stateEvent in point.State.Where(s => !(s.Type == EventTypes.Member && s.StateKey == remote))) stateIds.Add(stateEvent.EventId);
        stateIds.Add(renameId.Value);
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionOkAsync([pdu], from: c);

        Assert.True(results[eventId.Value]!.AsObject().Count == 0, results.ToJsonString());
        Assert.Equal("renamed", (await alice.GetStateEventAsync(roomId, EventTypes.Member, remote)).GetProperty("displayname").GetString());
        Assert.Equal([renameId.Value, eventId.Value], (await FederationTimelines.TimelineSinceAsync(sync, since, roomId)).Select(EventIdOf));
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(chain[0].Id.Value, CancellationToken.None));
        // B's next message cites both its own newest event and the one after the gap.
        var next = await alice.SendTextAsync(roomId, "welcome back");
        var stored = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(next, CancellationToken.None))!.Json)!;
        Assert.Contains(eventId.Value, stored["prev_events"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal("renamed", (await alice.GetStateEventAsync(roomId, EventTypes.Member, remote)).GetProperty("displayname").GetString());
    }

    private static JsonObject Text(string body) => new() { ["msgtype"] = "m.text", ["body"] = body };

    private static string? EventIdOf(JsonElement e) => e.GetProperty("event_id").GetString();

    /// <summary>A server that sends to B: its name, its federation client and its signing key.</summary>
    private sealed record RemoteServer(string Name, FederationClient Client, ServerSigningKey Key)
    {
        public string User(string name) => $"@{name}-{Guid.NewGuid().ToString("N")[..8]}:{Name}";

        public static RemoteServer Of(RunningServer server, string name) => new(name,
            server.App.Services.GetRequiredService<FederationClient>(), server.App.Services.GetRequiredService<LocalSigningKey>().Current);
    }

    private RemoteServer A => new(pair.NameOfA, pair.FederationOfA, pair.KeyOfA);

    /// <summary>
    /// A third server that answers <c>/get_missing_events</c> with nothing, <c>/state_ids</c> with <paramref name="stateIds"/>
    /// and <c>/event/{id}</c> with the events in <paramref name="served"/>.
    /// </summary>
    private async Task<RemoteServer> ServerServingStateAsync(Dictionary<string, JsonObject> served, JsonArray stateIds)
    {
        var (server, name) = await pair.StartAsync(allowPrivateAddresses: true, app =>
        {
            app.MapPost("/_matrix/federation/v1/get_missing_events/{roomId}", () =>
                Results.Text(new JsonObject { ["events"] = new JsonArray() }.ToJsonString(), "application/json")).WithOrder(-1);
            app.MapGet("/_matrix/federation/v1/state_ids/{roomId}", () =>
                Results.Text(new JsonObject { ["auth_chain_ids"] = new JsonArray(), ["pdu_ids"] = stateIds.DeepClone() }.ToJsonString(), "application/json")).WithOrder(-1);
            app.MapGet("/_matrix/federation/v1/event/{eventId}", (string eventId) =>
                served.TryGetValue(eventId, out var e)
                    ? Results.Text(new JsonObject { ["origin"] = "c", ["origin_server_ts"] = 1, ["pdus"] = new JsonArray(e.DeepClone()) }.ToJsonString(), "application/json")
                    : Results.NotFound()).WithOrder(-1);
        });
        return RemoteServer.Of(server, name);
    }

    private async Task<(RoomsClient Rooms, SyncUser Sync, string RoomId, RoomVersion Version)> LocalRoomAsync()
    {
        var user = await TestUsers.CreateAsync(pair.B, "alice");
        var http = pair.ClientFor(pair.B);
        var alice = new RoomsClient(http, user);
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);
        Assert.True(RoomVersion.TryGet(JsonNode.Parse(state.Single(e => e.Type == EventTypes.Create).Json)!["content"]!["room_version"]!.GetValue<string>(), out var version));
        return (alice, new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken), roomId, version);
    }

    /// <summary>A user of <paramref name="from"/> joins the room through make_join/send_join.</summary>
    private async Task<string> JoinRemoteAsync(string roomId, RemoteServer from, string name)
    {
        var remote = from.User(name);
        var made = await from.Client.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(remote)}?"
            + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
        Assert.True(made.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(made.Body));
        var body = JsonNode.Parse(made.Body)!.AsObject();
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        var (eventId, join) = FederationEvents.Sign(version, body["event"]!.AsObject(), from.Key, from.Name);
        var joined = await from.Client.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);
        Assert.True(joined.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(joined.Body));
        return remote;
    }

    /// <summary>The room as B has it now: its newest event and current state, for an event another server builds on them later.</summary>
    private sealed record ForkPoint(StoredEvent Newest, IReadOnlyList<StoredEvent> State);

    private async Task<ForkPoint> ForkPointAsync(string roomId) => new(
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, 1, CancellationToken.None))[0],
        await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None));

    /// <summary>An event as the remote server builds it on <paramref name="point"/>: its newest event as the only previous event.</summary>
    private (EventId EventId, JsonObject Event) RemoteEventOn(
        ForkPoint point, RoomVersion version, string sender, string type, JsonObject content, string? stateKey = null,
        Action<JsonObject>? change = null, RemoteServer? from = null)
    {
        from ??= A;
        var wanted = AuthEventSelector.RequiredStateKeys(type, stateKey, UserId.Parse(sender), content);
        var authEvents = point.State.Where(e => e.StateKey is not null && wanted.Contains(new StateEventKey(e.Type, e.StateKey)))
            .Select(e => Reference(version, e.EventId, JsonNode.Parse(e.Json)!.AsObject())).ToArray();
        var pdu = new JsonObject
        {
            ["auth_events"] = new JsonArray(authEvents),
            ["content"] = content.DeepClone(),
            ["depth"] = JsonNode.Parse(point.Newest.Json)!["depth"]!.GetValue<long>() + 1,
            ["origin"] = from.Name,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["prev_events"] = new JsonArray(Reference(version, point.Newest.EventId, JsonNode.Parse(point.Newest.Json)!.AsObject())),
            ["room_id"] = point.Newest.RoomId,
            ["sender"] = sender,
            ["type"] = type,
        };
        if (stateKey is not null) pdu["state_key"] = stateKey;
        change?.Invoke(pdu);
        return FederationEvents.Sign(version, pdu, from.Key, from.Name);
    }

    /// <summary>Makes the event follow <paramref name="previous"/>, <paramref name="laterMs"/> after it.</summary>
    private static void Follow(RoomVersion version, JsonObject e, EventId previousId, JsonObject previous, long laterMs)
    {
        e["prev_events"] = new JsonArray(Reference(version, previousId, previous));
        e["depth"] = previous["depth"]!.GetValue<long>() + 1;
        e["origin_server_ts"] = previous["origin_server_ts"]!.GetValue<long>() + laterMs;
    }

    /// <summary>An event id from room version 3 on; <c>[event_id, {"sha256": content hash}]</c> in versions 1 and 2.</summary>
    private static JsonNode Reference(RoomVersion version, EventId eventId, JsonObject e) => Reference(version, eventId.Value, e);

    private static JsonNode Reference(RoomVersion version, string eventId, JsonObject e) =>
        version.EventIdInEvent
            ? new JsonArray(eventId, new JsonObject { ["sha256"] = e["hashes"]!["sha256"]!.GetValue<string>() })
            : eventId;

    private static string IdOfReference(JsonNode reference) =>
        reference is JsonArray pair ? pair[0]!.GetValue<string>() : reference.GetValue<string>();

    private async Task<JsonObject> SendTransactionOkAsync(JsonObject[] pdus, RemoteServer? from = null)
    {
        from ??= A;
        var body = new JsonObject
        {
            ["origin"] = from.Name,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(pdus.Select(p => (JsonNode)p.DeepClone()).ToArray()),
        };
        var response = await from.Client.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/send/{Guid.NewGuid():N}", body, CancellationToken.None);
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        return JsonNode.Parse(response.Body)!["pdus"]!.AsObject();
    }

    private static async Task<JsonElement> JoinedRoomSinceAsync(SyncUser member, string since, string roomId) =>
        (await member.SyncSinceAsync(since, "timeout=0")).GetProperty("rooms").GetProperty("join").GetProperty(roomId);

    private static async Task<string> NextBatchAsync(SyncUser member) =>
        (await member.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    private async Task<int> EventCountAsync(string roomId) =>
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None)).Count;
}

public sealed class SqliteForkTests(SqliteFederationPair pair)
    : ForkTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresForkTests(PostgresFederationPair pair)
    : ForkTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
