using System.Net;
using System.Security.Cryptography;
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
/// A server C whose user is in a room of B sends, after B missed its events, only its newest one (as Synapse does after
/// an outage). B fetches the gap with repeated <c>/get_missing_events</c> rounds (C answers at most
/// <see cref="AnswerCap"/> events a round) and its local members see every message once, in order; a gap longer
/// than B's bound (<see cref="MaxGapEvents"/>) is bridged through <c>/state_ids</c>. See docs/adr/0048-gap-history.md.
/// </summary>
public abstract class GapHistoryTests<TPair>(TPair pair) where TPair : FederationPair
{
    /// <summary>B's <c>Federation:Inbound:MaxGapEvents</c> in these tests.</summary>
    public const int MaxGapEvents = 40;

    /// <summary>The most events C gives in one answer, fewer than B asks for: a gap of 30 takes three rounds.</summary>
    private const int AnswerCap = 10;

    [Fact]
    public async Task A_pdu_after_thirty_missed_events_brings_them_all_to_every_local_member_once_in_order()
    {
        var c = await ScriptedOriginAsync();
        var room = await RoomAsync(c, "ada");
        var (chain, (pduId, pdu)) = Gap(room, c, 30);
        var logs = await Task.WhenAll(room.Members.Select(m => MessageLog.FromNowAsync(m.Sync, room.RoomId)));

        var results = await SendTransactionAsync(c, NewTxnId(), [pdu]);

        Assert.True(results.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(results.Body));
        Assert.True(ResultOf(results, pduId).Count == 0, System.Text.Encoding.UTF8.GetString(results.Body));
        var expectedIds = chain.Select(e => e.Id.Value).Append(pduId.Value).ToList();
        var expectedBodies = Enumerable.Range(1, 30).Select(i => $"missed {i}").Append("after the gap").ToList();
        foreach (var log in logs)
        {
            await log.WaitForAsync(31);
            await log.SyncOnceAsync(); // Nothing more comes: each event once.
            Assert.Equal(expectedBodies, log.Bodies);
            Assert.Equal(expectedIds, log.EventIds);
        }
        var messages = await room.Members[0].Rooms.MessagesAsync(room.RoomId, "dir=b&limit=50");
        Assert.Equal(expectedIds.AsEnumerable().Reverse().ToList(), messages.GetProperty("chunk").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.message").Select(e => e.GetProperty("event_id").GetString()!).ToList());

        // Three rounds, each from the room's newest event to the oldest event still missing its previous one, each
        // asking for no more than the bound leaves.
        var requests = c.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal([room.Start.EventId], Ids(r["earliest_events"])));
        Assert.Equal([pduId.Value], Ids(requests[0]["latest_events"]));
        Assert.Equal([chain[20].Id.Value], Ids(requests[1]["latest_events"]));
        Assert.Equal([chain[10].Id.Value], Ids(requests[2]["latest_events"]));
        Assert.Equal([40, 30, 20], requests.Select(r => r["limit"]!.GetValue<int>()));
        Assert.Equal(0, c.StateIdsRequests);

        // C catches up later with the events themselves: nothing is appended twice.
        var events = await EventCountAsync(room.RoomId);
        var again = await SendTransactionAsync(c, NewTxnId(), chain.Take(5).Select(e => e.Event).ToArray());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.All(chain.Take(5), e => Assert.Empty(ResultOf(again, e.Id)));
        Assert.Equal(events, await EventCountAsync(room.RoomId));
    }

    [Fact]
    public async Task A_gap_beside_local_messages_sent_meanwhile_is_appended_as_a_branch_and_the_next_local_message_merges_it()
    {
        var c = await ScriptedOriginAsync();
        var room = await RoomAsync(c, "eve");
        var (chain, (pduId, pdu)) = Gap(room, c, 30);
        var logs = await Task.WhenAll(room.Members.Select(m => MessageLog.FromNowAsync(m.Sync, room.RoomId)));
        var alice = room.Members[0].Rooms;
        var local = new List<string>();
        for (var i = 1; i <= 3; i++) local.Add(await alice.SendTextAsync(room.RoomId, $"local {i}"));

        var results = await SendTransactionAsync(c, NewTxnId(), [pdu]);

        Assert.True(results.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(results.Body));
        Assert.True(ResultOf(results, pduId).Count == 0, System.Text.Encoding.UTF8.GetString(results.Body));
        Assert.All(c.Requests, r => Assert.Equal([local[^1]], Ids(r["earliest_events"])));
        var expected = local.Concat(chain.Select(e => e.Id.Value)).Append(pduId.Value).ToList();
        foreach (var log in logs)
        {
            await log.WaitForAsync(34);
            await log.SyncOnceAsync();
            Assert.Equal(expected, log.EventIds);
        }
        var merge = await alice.SendTextAsync(room.RoomId, "merging");
        var stored = JsonNode.Parse((await pair.StoreOfB.Events.GetEventAsync(merge, CancellationToken.None))!.Json)!;
        Assert.Equal(new[] { local[^1], pduId.Value }.Order(StringComparer.Ordinal),
            stored["prev_events"]!.AsArray().Select(p => IdOfReference(p!)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_gap_longer_than_the_bound_is_bridged_by_the_state_at_it_and_its_messages_are_not_stored()
    {
        var c = await ScriptedOriginAsync();
        var room = await RoomAsync(c, "bea");
        // 50 missed events; the fifth, beyond what the bound lets B fetch, changes the user's display name.
        var (chain, (pduId, pdu)) = Gap(room, c, 50, renameAt: 5);
        var (renameId, _) = chain[4];
        foreach (var s in room.Start.State.Where(s => !(s.Type == EventTypes.Member && s.StateKey == room.Remote))) c.StateIds.Add(s.EventId);
        c.StateIds.Add(renameId.Value);
        var sync = room.Members[0].Sync;
        var since = await NextBatchAsync(sync);

        var results = await SendTransactionAsync(c, NewTxnId(), [pdu]);

        Assert.True(results.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(results.Body));
        Assert.True(ResultOf(results, pduId).Count == 0, System.Text.Encoding.UTF8.GetString(results.Body));
        Assert.Equal("renamed", (await room.Members[0].Rooms.GetStateEventAsync(room.RoomId, EventTypes.Member, room.Remote)).GetProperty("displayname").GetString());
        Assert.Equal([renameId.Value, pduId.Value], (await FederationTimelines.TimelineSinceAsync(sync, since, room.RoomId)).Select(e => e.GetProperty("event_id").GetString()));
        foreach (var (id, _) in chain.Where(e => e.Id != renameId))
            Assert.Null(await pair.StoreOfB.Events.GetEventAsync(id.Value, CancellationToken.None));
        // B asked for no more events than its bound, then for the state at the newest missing event.
        Assert.True(MaxGapEvents == c.EventsGiven, string.Join("\n", c.Requests.Select(r => r.ToJsonString())));
        Assert.Equal([40, 30, 20, 10], c.Requests.Select(r => r["limit"]!.GetValue<int>()));
        Assert.Equal(1, c.StateIdsRequests);
    }

    [Fact]
    public async Task A_forged_event_in_the_middle_of_a_gap_refuses_the_pdu_and_nothing_from_it_on_is_stored()
    {
        var c = await ScriptedOriginAsync();
        var room = await RoomAsync(c, "cleo");
        using var impostor = ServerSigningKey.FromSeed(c.Name, c.Key.KeyId, RandomNumberGenerator.GetBytes(32));
        var (chain, (pduId, pdu)) = Gap(room, c, 30, forgeAt: 15, impostor: impostor);
        var log = await MessageLog.FromNowAsync(room.Members[0].Sync, room.RoomId);

        var results = await SendTransactionAsync(c, NewTxnId(), [pdu]);

        Assert.True(results.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(results.Body));
        var error = ResultOf(results, pduId)["error"]!.GetValue<string>();
        Assert.StartsWith("M_NOT_FOUND", error);
        Assert.Contains(chain[14].Id.Value, error);
        Assert.Contains("signature", error);
        foreach (var (id, _) in chain.Skip(14).Append((pduId, pdu)))
            Assert.Null(await pair.StoreOfB.Events.GetEventAsync(id.Value, CancellationToken.None));
        // The events before the forged one passed every check and follow the room's events: they stay, seen once.
        await log.WaitForAsync(14);
        await log.SyncOnceAsync();
        Assert.Equal(chain.Take(14).Select(e => e.Id.Value), log.EventIds);
        Assert.Equal(0, c.StateIdsRequests);
    }

    [Fact]
    public async Task An_event_of_the_gap_the_rules_reject_is_kept_as_rejected_and_the_events_after_it_are_appended()
    {
        var c = await ScriptedOriginAsync();
        var room = await RoomAsync(c, "fay");
        var (chain, (pduId, pdu)) = Gap(room, c, 30, rejectAt: 10);
        var rejectedId = chain[9].Id;
        var log = await MessageLog.FromNowAsync(room.Members[0].Sync, room.RoomId);

        var results = await SendTransactionAsync(c, NewTxnId(), [pdu]);

        Assert.True(results.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(results.Body));
        Assert.True(ResultOf(results, pduId).Count == 0, System.Text.Encoding.UTF8.GetString(results.Body));
        await log.WaitForAsync(30);
        await log.SyncOnceAsync();
        Assert.Equal(chain.Where(e => e.Id != rejectedId).Select(e => e.Id.Value).Append(pduId.Value), log.EventIds);
        Assert.Null(await pair.StoreOfB.Events.GetEventAsync(rejectedId.Value, CancellationToken.None));
        Assert.NotNull(await pair.StoreOfB.Forks.GetRejectedAsync(rejectedId.Value, CancellationToken.None));
        var levels = await room.Members[0].Rooms.GetStateEventAsync(room.RoomId, EventTypes.PowerLevels);
        Assert.False(levels.GetProperty("users").TryGetProperty(room.Remote, out _));
    }

    [Fact]
    public async Task An_origin_failing_in_the_middle_of_a_fill_fails_the_transaction_with_nothing_stored_and_its_retry_fills_the_gap()
    {
        var c = await ScriptedOriginAsync();
        var room = await RoomAsync(c, "dora");
        var (chain, (pduId, pdu)) = Gap(room, c, 30);
        var log = await MessageLog.FromNowAsync(room.Members[0].Sync, room.RoomId);
        var events = await EventCountAsync(room.RoomId);
        c.FailingRound = 2;
        var txnId = NewTxnId();

        var failed = await SendTransactionAsync(c, txnId, [pdu]);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(events, await EventCountAsync(room.RoomId));
        foreach (var (id, _) in chain) Assert.Null(await pair.StoreOfB.Events.GetEventAsync(id.Value, CancellationToken.None));

        c.FailingRound = null;
        var retried = await SendTransactionAsync(c, txnId, [pdu]);

        Assert.True(retried.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(retried.Body));
        Assert.Empty(ResultOf(retried, pduId));
        await log.WaitForAsync(31);
        await log.SyncOnceAsync();
        Assert.Equal(chain.Select(e => e.Id.Value).Append(pduId.Value), log.EventIds);
    }

    private static JsonObject Text(string body) => new() { ["msgtype"] = "m.text", ["body"] = body };

    private static List<string> Ids(JsonNode? array) => array!.AsArray().Select(id => id!.GetValue<string>()).ToList();

    private static string NewTxnId() => Guid.NewGuid().ToString("N");

    private static JsonObject ResultOf(FederationResponse response, EventId eventId) =>
        JsonNode.Parse(response.Body)!["pdus"]![eventId.Value]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"no result for {eventId}");

    private sealed record LocalMember(RoomsClient Rooms, SyncUser Sync);

    /// <summary>The room as B had it when C's events began: its newest event and current state.</summary>
    private sealed record Start(string EventId, JsonObject Newest, IReadOnlyList<StoredEvent> State);

    private sealed record GapRoom(string RoomId, RoomVersion Version, List<LocalMember> Members, string Remote, Start Start);

    /// <summary>A public room of B with two local members and a user of <paramref name="c"/> joined through make_join/send_join.</summary>
    private async Task<GapRoom> RoomAsync(ScriptedOrigin c, string name)
    {
        var members = new List<LocalMember>();
        foreach (var local in new[] { "alice", "bob" })
        {
            var user = await TestUsers.CreateAsync(pair.B, local);
            var http = pair.ClientFor(pair.B);
            members.Add(new LocalMember(new RoomsClient(http, user), new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken)));
        }
        var roomId = await members[0].Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await members[1].Rooms.JoinAsync(roomId);

        var remote = $"@{name}-{Guid.NewGuid().ToString("N")[..8]}:{c.Name}";
        var made = await c.Client.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(remote)}?"
            + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
        Assert.True(made.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(made.Body));
        var body = JsonNode.Parse(made.Body)!.AsObject();
        Assert.True(RoomVersion.TryGet(body["room_version"]!.GetValue<string>(), out var version));
        var (joinId, join) = FederationEvents.Sign(version, body["event"]!.AsObject(), c.Key, c.Name);
        var joined = await c.Client.SendAsync(pair.NameOfB, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(joinId.Value)}", join, CancellationToken.None);
        Assert.True(joined.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(joined.Body));

        var newest = (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, 1, CancellationToken.None))[0];
        var state = await pair.StoreOfB.State.GetCurrentStateAsync(roomId, CancellationToken.None);
        return new GapRoom(roomId, version, members, remote, new Start(newest.EventId, JsonNode.Parse(newest.Json)!.AsObject(), state));
    }

    /// <summary>
    /// <paramref name="count"/> events of C's user that B never got, each following the one before (the first B's newest
    /// event), served by C; and the message after them, which C sends (and serves). Event <paramref name="renameAt"/> (1-based)
    /// changes the user's display name, and the events after it cite it; event <paramref name="forgeAt"/> is signed
    /// with <paramref name="impostor"/>; event <paramref name="rejectAt"/> is a power levels change the user may not make.
    /// </summary>
    private static (List<(EventId Id, JsonObject Event)> Chain, (EventId Id, JsonObject Event) Pdu) Gap(
        GapRoom room, ScriptedOrigin c, int count, int? renameAt = null, int? forgeAt = null, ServerSigningKey? impostor = null, int? rejectAt = null)
    {
        var version = room.Version;
        var member = room.Start.State.Single(s => s.Type == EventTypes.Member && s.StateKey == room.Remote);
        var (memberId, memberEvent) = (member.EventId, JsonNode.Parse(member.Json)!.AsObject());
        var (previousId, previous) = (room.Start.EventId, room.Start.Newest);
        var chain = new List<(EventId Id, JsonObject Event)>();
        for (var i = 1; i <= count + 1; i++)
        {
            var renames = i == renameAt;
            var promotes = i == rejectAt;
            var type = renames ? EventTypes.Member : promotes ? EventTypes.PowerLevels : "m.room.message";
            var content = renames ? new JsonObject { ["membership"] = Membership.Join, ["displayname"] = "renamed" }
                : promotes ? new JsonObject { ["users"] = new JsonObject { [room.Remote] = 100 } }
                : Text(i > count ? "after the gap" : $"missed {i}");
            var stateKey = renames ? room.Remote : promotes ? "" : null;
            var wanted = AuthEventSelector.RequiredStateKeys(type, stateKey, UserId.Parse(room.Remote), content);
            var auth = room.Start.State.Where(s => s.StateKey is not null && wanted.Contains(new StateEventKey(s.Type, s.StateKey)))
                .Select(s => s.EventId == member.EventId ? Reference(version, memberId, memberEvent) : Reference(version, s.EventId, JsonNode.Parse(s.Json)!.AsObject()))
                .ToArray();
            var template = new JsonObject
            {
                ["auth_events"] = new JsonArray(auth),
                ["content"] = content,
                ["depth"] = previous["depth"]!.GetValue<long>() + 1,
                ["origin"] = c.Name,
                ["origin_server_ts"] = previous["origin_server_ts"]!.GetValue<long>() + 1_000,
                ["prev_events"] = new JsonArray(Reference(version, previousId, previous)),
                ["room_id"] = room.RoomId,
                ["sender"] = room.Remote,
                ["type"] = type,
            };
            if (stateKey is not null) template["state_key"] = stateKey;
            var (id, signed) = FederationEvents.Sign(version, template, i == forgeAt ? impostor! : c.Key, c.Name);
            c.Events[id.Value] = signed;
            if (i > count) return (chain, (id, signed));
            chain.Add((id, signed));
            if (renames) (memberId, memberEvent) = (id.Value, signed);
            (previousId, previous) = (id.Value, signed);
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>An event id from room version 3 on; <c>[event_id, {"sha256": content hash}]</c> in versions 1 and 2.</summary>
    private static JsonNode Reference(RoomVersion version, string eventId, JsonObject e) =>
        version.EventIdInEvent
            ? new JsonArray(eventId, new JsonObject { ["sha256"] = e["hashes"]!["sha256"]!.GetValue<string>() })
            : eventId;

    private static string IdOfReference(JsonNode reference) =>
        reference is JsonArray pair ? pair[0]!.GetValue<string>() : reference.GetValue<string>();

    /// <summary>
    /// Server C as the test scripts it: <c>/get_missing_events</c> walks the previous events of <c>latest_events</c>
    /// through <see cref="Events"/> as the spec has it (skipping <c>earliest_events</c>, not below <c>min_depth</c>, at
    /// most <c>limit</c> and <see cref="AnswerCap"/> events), or answers 500 in round <see cref="FailingRound"/>;
    /// <c>/state_ids</c> answers <see cref="StateIds"/>, <c>/event/{id}</c> an event of <see cref="Events"/>.
    /// </summary>
    private sealed class ScriptedOrigin
    {
        public required string Name { get; init; }

        public required FederationClient Client { get; init; }

        public required ServerSigningKey Key { get; init; }

        public Dictionary<string, JsonObject> Events { get; } = new(StringComparer.Ordinal);

        public JsonArray StateIds { get; } = [];

        public List<JsonObject> Requests { get; } = [];

        public int? FailingRound { get; set; }

        public int EventsGiven { get; private set; }

        public int StateIdsRequests { get; private set; }

        public IResult MissingEvents(JsonObject request)
        {
            lock (this)
            {
                Requests.Add(request);
                if (Requests.Count == FailingRound) return Results.StatusCode(500);
                var earliest = Ids(request["earliest_events"]).ToHashSet();
                var limit = Math.Min(request["limit"]?.GetValue<int>() ?? 10, AnswerCap);
                var minDepth = request["min_depth"]?.GetValue<long>() ?? 0;
                var answer = new JsonArray();
                var seen = new HashSet<string>(earliest);
                var queue = new Queue<string>(Ids(request["latest_events"]).Where(Events.ContainsKey)
                    .SelectMany(id => Events[id]["prev_events"]!.AsArray().Select(p => IdOfReference(p!))));
                while (answer.Count < limit && queue.TryDequeue(out var id))
                {
                    if (!seen.Add(id) || !Events.TryGetValue(id, out var e) || e["depth"]!.GetValue<long>() < minDepth) continue;
                    answer.Add(e.DeepClone());
                    foreach (var prev in e["prev_events"]!.AsArray()) queue.Enqueue(IdOfReference(prev!));
                }
                EventsGiven += answer.Count;
                return Results.Text(new JsonObject { ["events"] = answer }.ToJsonString(), "application/json");
            }
        }

        public IResult State()
        {
            lock (this)
            {
                StateIdsRequests++;
                return Results.Text(new JsonObject { ["auth_chain_ids"] = new JsonArray(), ["pdu_ids"] = StateIds.DeepClone() }.ToJsonString(), "application/json");
            }
        }

        public IResult Event(string eventId)
        {
            lock (this)
            {
                return Events.TryGetValue(eventId, out var e)
                    ? Results.Text(new JsonObject { ["origin"] = Name, ["origin_server_ts"] = 1, ["pdus"] = new JsonArray(e.DeepClone()) }.ToJsonString(), "application/json")
                    : Results.NotFound();
            }
        }
    }

    private async Task<ScriptedOrigin> ScriptedOriginAsync()
    {
        ScriptedOrigin? origin = null;
        var (server, name) = await pair.StartAsync(allowPrivateAddresses: true, app =>
        {
            app.MapPost("/_matrix/federation/v1/get_missing_events/{roomId}", async (HttpContext context) =>
            {
                var request = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
                return origin!.MissingEvents(request);
            }).WithOrder(-1);
            app.MapGet("/_matrix/federation/v1/state_ids/{roomId}", () => origin!.State()).WithOrder(-1);
            app.MapGet("/_matrix/federation/v1/event/{eventId}", (string eventId) => origin!.Event(eventId)).WithOrder(-1);
        });
        origin = new ScriptedOrigin
        {
            Name = name,
            Client = server.App.Services.GetRequiredService<FederationClient>(),
            Key = server.App.Services.GetRequiredService<LocalSigningKey>().Current,
        };
        return origin;
    }

    private Task<FederationResponse> SendTransactionAsync(ScriptedOrigin from, string txnId, JsonObject[] pdus)
    {
        var body = new JsonObject
        {
            ["origin"] = from.Name,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(pdus.Select(p => (JsonNode)p.DeepClone()).ToArray()),
        };
        return from.Client.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/send/{txnId}", body, CancellationToken.None);
    }

    private static async Task<string> NextBatchAsync(SyncUser member) =>
        (await member.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    private async Task<int> EventCountAsync(string roomId) =>
        (await pair.StoreOfB.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None)).Count;
}

/// <summary>Two servers whose gap fills stop at <see cref="GapHistoryTests{TPair}.MaxGapEvents"/> events.</summary>
public abstract class BoundedGapFederationPair : FederationPair
{
    protected override IEnumerable<string> ArgumentsOfEach => [$"--Federation:Inbound:MaxGapEvents={GapHistoryTests<SqliteBoundedGapFederationPair>.MaxGapEvents}"];
}

public sealed class SqliteBoundedGapFederationPair : BoundedGapFederationPair
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresBoundedGapFederationPair : BoundedGapFederationPair
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

public sealed class SqliteGapHistoryTests(SqliteBoundedGapFederationPair pair)
    : GapHistoryTests<SqliteBoundedGapFederationPair>(pair), IClassFixture<SqliteBoundedGapFederationPair>;

public sealed class PostgresGapHistoryTests(PostgresBoundedGapFederationPair pair)
    : GapHistoryTests<PostgresBoundedGapFederationPair>(pair), IClassFixture<PostgresBoundedGapFederationPair>;
