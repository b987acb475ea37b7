using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using static HomeServer.Server.Tests.Federation.FederatedMembers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A user of server B joins rooms of server A through make_join/send_join, by alias (resolved over
/// <c>/query/directory</c>) and by room id with <c>server_name</c>: B keeps a copy of the room from the send_join answer,
/// its user sees the room in /sync, messages go both ways once and in order, and a leave reaches A. A send_join answer
/// with an altered state event, an unknown alias and unreachable servers fail with clear errors and store nothing.
/// </summary>
public abstract class OutboundJoinTests<TPair>(TPair pair) where TPair : FederationPair
{
    private Task<(RoomsClient Rooms, SyncUser Sync)> UserAsync(RunningServer server, string name) => FederatedMembers.UserAsync(pair, server, name);

    [Fact]
    public async Task A_user_of_B_joins_a_room_of_A_by_alias_talks_both_ways_and_leaves()
    {
        var (alice, aliceSync) = await UserAsync(pair.A, "alice");
        var (bob, bobSync) = await UserAsync(pair.B, "bob");
        var aliasName = "lounge-" + Guid.NewGuid().ToString("N")[..8];
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", name = "Federated lounge", room_alias_name = aliasName });
        var alias = $"#{aliasName}:{pair.NameOfA}";

        var resolved = await bob.OkAsync(HttpMethod.Get, $"/directory/room/{RoomsClient.Escape(alias)}");
        Assert.Equal(roomId, resolved.GetProperty("room_id").GetString());
        Assert.Equal([pair.NameOfA], resolved.GetProperty("servers").EnumerateArray().Select(s => s.GetString()!).ToArray());

        var joined = await bob.JoinAsync(alias);
        Assert.Equal(roomId, joined.GetProperty("room_id").GetString());

        var initial = await bobSync.SyncAsync("timeout=0");
        var room = initial.GetProperty("rooms").GetProperty("join").GetProperty(roomId);
        var events = Events(room, "state").Concat(Events(room, "timeline")).ToList();
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "m.room.name"
                                     && e.GetProperty("content").GetProperty("name").GetString() == "Federated lounge");
        var members = events.Where(e => e.GetProperty("type").GetString() == "m.room.member")
            .GroupBy(e => e.GetProperty("state_key").GetString()!)
            .ToDictionary(g => g.Key, g => g.Last().GetProperty("content").GetProperty("membership").GetString());
        Assert.Equal("join", members[alice.UserId]);
        Assert.Equal("join", members[bob.UserId]);
        var timeline = Events(room, "timeline").ToList();
        Assert.Equal(bob.UserId, timeline[^1].GetProperty("state_key").GetString());
        Assert.Equal("join", timeline[^1].GetProperty("content").GetProperty("membership").GetString());

        // A's server has B's user as a member.
        await WaitUntilAsync(async () => (await JoinedMembersAsync(alice, roomId)).Contains(bob.UserId), "bob in A's member list");

        // A's directory now names both servers with joined members, its own first.
        var again = await bob.OkAsync(HttpMethod.Get, $"/directory/room/{RoomsClient.Escape(alias)}");
        Assert.Equal([pair.NameOfA, pair.NameOfB], again.GetProperty("servers").EnumerateArray().Select(s => s.GetString()!).ToArray());

        // Taking turns keeps the room linear: each message is sent once the other side has the one before.
        var aliceSeen = new MessageLog(aliceSync, roomId, await SinceAsync(aliceSync));
        var bobSeen = new MessageLog(bobSync, roomId, initial.GetProperty("next_batch").GetString()!);
        string[] sent = ["from A 1", "from B 1", "from A 2", "from B 2", "from A 3"];
        foreach (var (body, index) in sent.Select((b, i) => (b, i)))
        {
            var sender = index % 2 == 0 ? alice : bob;
            await sender.SendTextAsync(roomId, body);
            await aliceSeen.WaitForAsync(index + 1);
            await bobSeen.WaitForAsync(index + 1);
        }
        // Nothing comes twice later on.
        await aliceSeen.SyncOnceAsync();
        await bobSeen.SyncOnceAsync();
        Assert.Equal(sent, aliceSeen.Bodies);
        Assert.Equal(sent, bobSeen.Bodies);
        Assert.Equal(aliceSeen.EventIds, bobSeen.EventIds);

        await bob.LeaveAsync(roomId);
        await WaitUntilAsync(async () => !(await JoinedMembersAsync(alice, roomId)).Contains(bob.UserId), "bob gone from A's member list");
        var bobMember = await alice.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("leave", bobMember.GetProperty("membership").GetString());

        // With no member joined, B gets none of the room's events: joining again goes through A, and works while the
        // room has not moved on since B's leave.
        await bob.JoinAsync(roomId);
        await WaitUntilAsync(async () => (await JoinedMembersAsync(alice, roomId)).Contains(bob.UserId), "bob back in A's member list");
        await bob.LeaveAsync(roomId);
        await WaitUntilAsync(async () => !(await JoinedMembersAsync(alice, roomId)).Contains(bob.UserId), "bob gone again");
        await alice.SendTextAsync(roomId, "while B is away");

        using var stale = await bob.RequestAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}", new { });
        var refusal = JsonDocument.Parse(await stale.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadGateway, stale.StatusCode);
        Assert.Contains("moved on", refusal.GetProperty("error").GetString());
        Assert.DoesNotContain(bob.UserId, await JoinedMembersAsync(alice, roomId));
    }

    [Fact]
    public async Task A_user_of_B_joins_by_room_id_with_server_name_and_a_second_user_of_B_then_joins_locally()
    {
        var (alice, _) = await UserAsync(pair.A, "alice");
        var (bob, bobSync) = await UserAsync(pair.B, "bob");
        var (carol, _) = await UserAsync(pair.B, "carol");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", name = "By id" });

        await bob.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(pair.NameOfA)}", new { });
        var room = (await bobSync.SyncAsync("timeout=0")).GetProperty("rooms").GetProperty("join").GetProperty(roomId);
        Assert.Contains(Events(room, "state").Concat(Events(room, "timeline")),
            e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "By id");

        // B is in the room now: carol's join is B's own, and reaches A like any event of B.
        await carol.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/join", new { });
        await WaitUntilAsync(async () =>
        {
            var members = await JoinedMembersAsync(alice, roomId);
            return members.Contains(bob.UserId) && members.Contains(carol.UserId);
        }, "bob and carol in A's member list");
    }

    [Fact]
    public async Task Typing_and_read_receipts_of_each_server_reach_the_other_servers_member_in_sync()
    {
        var (alice, aliceSync) = await UserAsync(pair.A, "alice");
        var (bob, bobSync) = await UserAsync(pair.B, "bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(pair.NameOfA)}", new { });
        var fromBob = await bob.SendTextAsync(roomId, "read me, alice");
        var bobSince = await SinceAsync(bobSync);
        var aliceSince = await SinceAsync(aliceSync);

        await alice.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/typing/{RoomsClient.Escape(alice.UserId)}", new { typing = true, timeout = 30000 });
        await WaitUntilAsync(async () => (await EphemeralSinceAsync(bobSync, bobSince, roomId, "m.typing"))
            .Any(e => e.GetProperty("content").GetProperty("user_ids").EnumerateArray().Any(u => u.GetString() == alice.UserId)), "alice typing in bob's /sync");

        await WaitUntilAsync(async () => (await alice.RawAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/event/{RoomsClient.Escape(fromBob)}", null)).IsSuccessStatusCode,
            "bob's message at A");
        await alice.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/receipt/m.read/{RoomsClient.Escape(fromBob)}", new { });
        await WaitUntilAsync(async () => (await EphemeralSinceAsync(bobSync, bobSince, roomId, "m.receipt"))
            .Any(e => e.GetProperty("content").TryGetProperty(fromBob, out var receipt)
                      && receipt.GetProperty("m.read").TryGetProperty(alice.UserId, out _)), "alice's read receipt in bob's /sync");

        await bob.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/typing/{RoomsClient.Escape(bob.UserId)}", new { typing = true, timeout = 30000 });
        await WaitUntilAsync(async () => (await EphemeralSinceAsync(aliceSync, aliceSince, roomId, "m.typing"))
            .Any(e => e.GetProperty("content").GetProperty("user_ids").EnumerateArray().Any(u => u.GetString() == bob.UserId)), "bob typing in alice's /sync");
    }

    private static async Task<List<JsonElement>> EphemeralSinceAsync(SyncUser user, string since, string roomId, string type)
    {
        var body = await user.SyncSinceAsync(since, "timeout=0");
        return body.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.TryGetProperty(roomId, out var room)
            ? Events(room, "ephemeral").Where(e => e.GetProperty("type").GetString() == type).ToList()
            : [];
    }

    [Fact]
    public async Task An_unknown_alias_of_A_is_404_for_lookups_and_joins()
    {
        var (bob, _) = await UserAsync(pair.B, "bob");
        var alias = RoomsClient.Escape($"#nothing-{Guid.NewGuid():N}:{pair.NameOfA}");

        await bob.FailsAsync(HttpMethod.Get, $"/directory/room/{alias}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(HttpMethod.Post, $"/join/{alias}", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Query_directory_answers_this_servers_aliases_only()
    {
        var (bob, _) = await UserAsync(pair.B, "bob");
        var aliasName = "query-" + Guid.NewGuid().ToString("N")[..8];
        var roomId = await bob.CreateRoomAsync(new { preset = "public_chat", room_alias_name = aliasName });

        async Task<(HttpStatusCode Status, JsonNode? Body)> QueryAsync(string query)
        {
            var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Get, "/_matrix/federation/v1/query/directory" + query, null, CancellationToken.None);
            return (response.StatusCode, JsonNode.Parse(response.Body));
        }

        var (status, body) = await QueryAsync($"?room_alias={RoomsClient.Escape($"#{aliasName}:{pair.NameOfB}")}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(roomId, body!["room_id"]!.GetValue<string>());
        Assert.Equal([pair.NameOfB], body["servers"]!.AsArray().Select(s => s!.GetValue<string>()).ToArray());

        (status, body) = await QueryAsync($"?room_alias={RoomsClient.Escape($"#{aliasName}:{pair.NameOfA}")}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("M_NOT_FOUND", body!["errcode"]!.GetValue<string>());

        (status, body) = await QueryAsync($"?room_alias={RoomsClient.Escape($"#unknown-{aliasName}:{pair.NameOfB}")}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("M_NOT_FOUND", body!["errcode"]!.GetValue<string>());

        (status, body) = await QueryAsync("");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("M_MISSING_PARAM", body!["errcode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Joining_through_servers_that_cannot_be_reached_is_a_clear_502_and_stores_nothing()
    {
        var (bob, _) = await UserAsync(pair.B, "bob");
        // Port 9 (discard) of loopback: the connection is refused at once.
        var roomId = $"!unreachable{Guid.NewGuid():N}:127.0.0.1:9";

        using var response = await bob.RequestAsync(HttpMethod.Post,
            $"/join/{RoomsClient.Escape(roomId)}?server_name=127.0.0.1:9&via=127.0.0.1:7", new { });

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("M_UNKNOWN", body.GetProperty("errcode").GetString());
        var error = body.GetProperty("error").GetString()!;
        Assert.Contains("127.0.0.1:9: unreachable", error);
        Assert.Contains("127.0.0.1:7: unreachable", error);
        Assert.Null(await pair.StoreOfB.Rooms.GetRoomAsync(roomId, CancellationToken.None));
    }

    [Theory]
    [InlineData(Tampering.StateContent, "content hash")]
    [InlineData(Tampering.CreateSignature, "signature")]
    public async Task A_send_join_answer_with_an_altered_state_event_fails_the_join_and_stores_nothing(Tampering tampering, string reason)
    {
        var tamperer = new SendJoinTamperer { Mode = tampering };
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(tamperer.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, bobSync) = await UserAsync(pair.B, "bob");
        var roomId = await carl.CreateRoomAsync(new { preset = "public_chat", name = "Honest name" });
        var join = $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(residentName)}";

        using var response = await bob.RequestAsync(HttpMethod.Post, join, new { });

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("M_UNKNOWN", body.GetProperty("errcode").GetString());
        Assert.Contains(reason, body.GetProperty("error").GetString());
        Assert.True(tamperer.Tampered);
        Assert.Null(await pair.StoreOfB.Rooms.GetRoomAsync(roomId, CancellationToken.None));
        Assert.Empty(await pair.StoreOfB.Events.GetLatestEventsAsync(roomId, 1, CancellationToken.None));
        var sync = await bobSync.SyncAsync("timeout=0");
        Assert.False(sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var joinedRooms) && joinedRooms.TryGetProperty(roomId, out _));

        // The same join through an honest answer succeeds: the refusal was the altered event's.
        tamperer.Mode = Tampering.None;
        await bob.OkAsync(HttpMethod.Post, join, new { });
        Assert.NotNull(await pair.StoreOfB.Rooms.GetRoomAsync(roomId, CancellationToken.None));
    }

    [Fact]
    public async Task Events_the_resident_server_sends_while_the_join_is_under_way_wait_for_the_copy_of_the_room()
    {
        var tamperer = new SendJoinTamperer { Mode = Tampering.None };
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(tamperer.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, bobSync) = await UserAsync(pair.B, "bob");
        var roomId = await carl.CreateRoomAsync(new { preset = "public_chat" });
        // The message follows the join on the resident server and goes out to B before B has the answer.
        tamperer.BeforeAnswer = async () =>
        {
            await carl.SendTextAsync(roomId, "sent during the join");
            await Task.Delay(1000);
        };

        await bob.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(residentName)}", new { });
        tamperer.BeforeAnswer = null;

        var seen = new MessageLog(bobSync, roomId, since: "");
        await seen.WaitForAsync(1);
        Assert.Equal(["sent during the join"], seen.Bodies);
    }

    /// <summary>Alters the send_join answers of the server it runs in: the name in m.room.name, or a byte of the create event's signature.</summary>
    private sealed class SendJoinTamperer
    {
        public volatile Tampering Mode;
        public volatile bool Tampered;

        /// <summary>Runs once the join is in the room and before its answer leaves.</summary>
        public Func<Task>? BeforeAnswer;

        public async Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            if (context.Request.Method != "PUT" || !context.Request.Path.Value!.Contains("/send_join/"))
            {
                await next(context);
                return;
            }
            var original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            await next(context);
            context.Response.Body = original;
            if (BeforeAnswer is { } beforeAnswer) await beforeAnswer();
            var answer = JsonNode.Parse(buffer.ToArray())!.AsObject();
            if (answer["state"] is JsonArray state)
            {
                foreach (var e in state.OfType<JsonObject>())
                {
                    var type = e["type"]!.GetValue<string>();
                    if (Mode == Tampering.StateContent && type == "m.room.name")
                    {
                        e["content"]!["name"] = "Altered name";
                        Tampered = true;
                    }
                    if (Mode == Tampering.CreateSignature && type == "m.room.create")
                    {
                        var signatures = e["signatures"]!.AsObject().Single().Value!.AsObject();
                        var (keyId, value) = signatures.Single();
                        var text = value!.GetValue<string>();
                        signatures[keyId] = (text[0] == 'A' ? "B" : "A") + text[1..];
                        Tampered = true;
                    }
                }
            }
            var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
            context.Response.ContentLength = bytes.Length;
            await original.WriteAsync(bytes);
        }
    }

}

/// <summary>How the resident server of <see cref="OutboundJoinTests{TPair}"/> alters its send_join answers.</summary>
public enum Tampering
{
    None,
    StateContent,
    CreateSignature,
}

public sealed class SqliteOutboundJoinTests(SqliteFederationPair pair)
    : OutboundJoinTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresOutboundJoinTests(PostgresFederationPair pair)
    : OutboundJoinTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
