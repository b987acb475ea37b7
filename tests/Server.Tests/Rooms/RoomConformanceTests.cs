using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>Smaller rules of the rooms API as a client sees them: repeated state, the legacy send, member content, aliases.</summary>
public abstract class RoomConformanceTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private async Task<string> SyncTokenAsync(RoomsClient client) =>
        (await client.OkAsync(Get, "/sync?timeout=0")).GetProperty("next_batch").GetString()!;

    /// <summary>The room's timeline events from <paramref name="since"/> up to and including the event <paramref name="untilEventId"/>.</summary>
    private async Task<List<JsonElement>> TimelineUntilAsync(RoomsClient client, string roomId, string since, string untilEventId)
    {
        var events = new List<JsonElement>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!events.Any(e => e.GetProperty("event_id").GetString() == untilEventId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{untilEventId} did not arrive by /sync");
            var sync = await client.OkAsync(Get, $"/sync?timeout=10000&since={E(since)}");
            since = sync.GetProperty("next_batch").GetString()!;
            if (sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.TryGetProperty(roomId, out var room))
                events.AddRange(room.GetProperty("timeline").GetProperty("events").EnumerateArray());
        }
        return events;
    }

    private async Task<string[]> EventIdsOfTypeAsync(RoomsClient client, string roomId, string type) =>
        EventIds((await client.MessagesAsync(roomId, "dir=f&limit=100&filter=" + E($"{{\"types\":[\"{type}\"]}}"))).GetProperty("chunk"));

    [Fact]
    public async Task Setting_state_to_what_it_is_already_answers_the_current_event_and_creates_none()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var first = await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "plants", extra = new { a = 1, b = new[] { 1, 2 } } });
        var since = await SyncTokenAsync(alice);

        // The same content (key order does not matter), by the same sender: the same event, nothing new.
        using (var sameContent = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/state/m.room.topic/",
                   """{"extra":{"b":[1,2],"a":1},"topic":"plants"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, sameContent.StatusCode);
            Assert.Equal(first, (await sameContent.ReadJsonAsync()).GetProperty("event_id").GetString());
        }
        Assert.Equal(first, await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "plants", extra = new { a = 1, b = new[] { 1, 2 } } }));
        var ownMember = await alice.GetStateEventAsync(roomId, "m.room.member", alice.UserId);
        var memberEvent = (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/state")).EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "m.room.member" && e.GetProperty("state_key").GetString() == alice.UserId);
        Assert.Equal(memberEvent.GetProperty("event_id").GetString(), await alice.SetStateAsync(roomId, "m.room.member", ownMember, alice.UserId));
        var marker = await alice.SendTextAsync(roomId, "marker");

        var timeline = await TimelineUntilAsync(alice, roomId, since, marker);
        Assert.Equal([marker], EventIds(JsonSerializer.SerializeToElement(timeline)));
        Assert.Equal([first], await EventIdsOfTypeAsync(alice, roomId, "m.room.topic"));

        // Other content, or the same content from another sender, is a new state event.
        var powerLevels = System.Text.Json.Nodes.JsonNode.Parse((await alice.GetStateEventAsync(roomId, "m.room.power_levels")).GetRawText())!;
        powerLevels["users"]![bob.UserId] = 100;
        await alice.SetStateAsync(roomId, "m.room.power_levels", powerLevels);
        var byBob = await bob.SetStateAsync(roomId, "m.room.topic", new { topic = "plants", extra = new { a = 1, b = new[] { 1, 2 } } });
        var changed = await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "plants", extra = new { a = 1, b = new[] { 2, 1 } } });
        Assert.Equal([first, byBob, changed], await EventIdsOfTypeAsync(alice, roomId, "m.room.topic"));
    }

    [Fact]
    public async Task The_legacy_send_without_a_transaction_id_sends_a_new_event_each_time()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync();

        var first = (await alice.OkAsync(Post, $"/rooms/{E(roomId)}/send/m.room.message", new { msgtype = "m.text", body = "old client" }))
            .GetProperty("event_id").GetString()!;
        var second = (await alice.OkAsync(Post, $"/rooms/{E(roomId)}/send/m.room.message", new { msgtype = "m.text", body = "old client" }))
            .GetProperty("event_id").GetString()!;

        Assert.NotEqual(first, second);
        Assert.Equal([first, second], await EventIdsOfTypeAsync(alice, roomId, "m.room.message"));
        var seen = await alice.GetEventAsync(roomId, first);
        Assert.Equal("old client", seen.GetProperty("content").GetProperty("body").GetString());
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/send/m.room.message", new { body = "not a member" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        using var notObject = await alice.RawAsync(Post, $"/rooms/{E(roomId)}/send/m.room.message", "[1]");
        await notObject.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
    }

    [Fact]
    public async Task Joined_members_always_name_display_name_and_avatar_url()
    {
        var alice = await UserAsync("alice", displayName: "Alice A.");
        var bob = await UserAsync("bob");
        await alice.OkAsync(Put, $"/profile/{E(alice.UserId)}/avatar_url", new { avatar_url = "mxc://localhost/alice" });
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);

        var joined = (await bob.OkAsync(Get, $"/rooms/{E(roomId)}/joined_members")).GetProperty("joined");

        Assert.Equal("Alice A.", joined.GetProperty(alice.UserId).GetProperty("display_name").GetString());
        Assert.Equal("mxc://localhost/alice", joined.GetProperty(alice.UserId).GetProperty("avatar_url").GetString());
        // As Synapse: a member without an avatar (or a display name) still has the key, with null.
        Assert.Equal(JsonValueKind.Null, joined.GetProperty(bob.UserId).GetProperty("avatar_url").ValueKind);
    }

    [Fact]
    public async Task A_join_keeps_the_custom_keys_and_reason_of_its_body_and_adds_the_profile_unless_given()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob", displayName: "Bob B.");
        await bob.OkAsync(Put, $"/profile/{E(bob.UserId)}/avatar_url", new { avatar_url = "mxc://localhost/bob" });
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_alias_name = "custom-join-" + Guid.NewGuid().ToString("N")[..8] });
        var alias = (await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).GetProperty("alias").GetString()!;

        await bob.OkAsync(Post, $"/join/{E(alias)}", new { reason = "curious", foo = "bar", membership = "leave" });
        var member = await alice.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("join", member.GetProperty("membership").GetString());
        Assert.Equal("bar", member.GetProperty("foo").GetString());
        Assert.Equal("curious", member.GetProperty("reason").GetString());
        Assert.Equal("Bob B.", member.GetProperty("displayname").GetString());
        Assert.Equal("mxc://localhost/bob", member.GetProperty("avatar_url").GetString());

        await bob.LeaveAsync(roomId);
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/join", new { displayname = "Bob here", custom = new { n = 1 } });
        member = await alice.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("Bob here", member.GetProperty("displayname").GetString());
        Assert.Equal(1, member.GetProperty("custom").GetProperty("n").GetInt32());
        Assert.Equal("mxc://localhost/bob", member.GetProperty("avatar_url").GetString());
        Assert.False(member.TryGetProperty("foo", out _));

        await bob.SetStateAsync(roomId, "m.room.member", new { membership = "join", status = "away" }, bob.UserId);
        member = await alice.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal(("away", "Bob B."), (member.GetProperty("status").GetString(), member.GetProperty("displayname").GetString()));

        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/join", new { reason = 5 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
    }

    [Fact]
    public async Task Deleting_an_alias_drops_it_from_the_canonical_alias_state()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_alias_name = "main-" + suffix });
        var main = (await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).GetProperty("alias").GetString()!;
        var server = main[(main.IndexOf(':') + 1)..];
        string[] alternatives = [$"#alt1-{suffix}:{server}", $"#alt2-{suffix}:{server}"];
        foreach (var alternative in alternatives)
            await alice.OkAsync(Put, $"/directory/room/{E(alternative)}", new { room_id = roomId });
        await alice.SetStateAsync(roomId, "m.room.canonical_alias", new { alias = main, alt_aliases = alternatives });
        await bob.JoinAsync(roomId);

        await alice.OkAsync(Delete, $"/directory/room/{E(main)}");
        var content = await alice.GetStateEventAsync(roomId, "m.room.canonical_alias");
        Assert.False(content.TryGetProperty("alias", out _));
        Assert.Equal(alternatives, content.GetProperty("alt_aliases").EnumerateArray().Select(a => a.GetString()!));
        var stateEvent = (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/state")).EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "m.room.canonical_alias");
        Assert.Equal(alice.UserId, stateEvent.GetProperty("sender").GetString());
        await alice.FailsAsync(Get, $"/directory/room/{E(main)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");

        // Bob created this alias but may not change the room's state: the alias goes, the state stays (as in Synapse).
        var bobs = $"#bob-{suffix}:{server}";
        await bob.OkAsync(Put, $"/directory/room/{E(bobs)}", new { room_id = roomId });
        await alice.SetStateAsync(roomId, "m.room.canonical_alias", new { alt_aliases = alternatives.Append(bobs) });
        await bob.OkAsync(Delete, $"/directory/room/{E(bobs)}");
        Assert.Contains(bobs, (await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).GetProperty("alt_aliases").EnumerateArray().Select(a => a.GetString()));

        // The last alternative gone: the emptied list goes too.
        await alice.SetStateAsync(roomId, "m.room.canonical_alias", new { alt_aliases = new[] { alternatives[0] } });
        var before = await EventIdsOfTypeAsync(alice, roomId, "m.room.canonical_alias");
        await alice.OkAsync(Delete, $"/directory/room/{E(alternatives[1])}");
        Assert.Equal(before, await EventIdsOfTypeAsync(alice, roomId, "m.room.canonical_alias"));
        await alice.OkAsync(Delete, $"/directory/room/{E(alternatives[0])}");
        Assert.Empty((await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).EnumerateObject());
    }

    [Fact]
    public async Task A_third_party_invite_is_checked_for_its_shape_then_fails_when_the_identity_server_cannot_be_reached()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var invite = $"/rooms/{E(roomId)}/invite";

        await alice.FailsAsync(Post, invite, new { medium = "email", address = "bob@example.org" }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Post, invite, new { id_server = "id.example.org", id_access_token = "t", medium = "email" },
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Post, invite, new { id_server = "id.example.org", id_access_token = "t", medium = "email", address = 5 },
            HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, invite, new { }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");

        // A loopback identity server is not one this server may connect to (ThirdPartyInviteTests reach a real one).
        using var refused = await alice.RequestAsync(Post, invite,
            new { id_server = "127.0.0.1:1", id_access_token = "t", medium = "email", address = "bob@example.org" });
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        var error = await refused.ReadJsonAsync();
        Assert.Equal("M_UNKNOWN", error.GetProperty("errcode").GetString());
        Assert.Contains("identity server", error.GetProperty("error").GetString());
        var state = await alice.OkAsync(Get, $"/rooms/{E(roomId)}/state");
        Assert.DoesNotContain("m.room.third_party_invite", Types(state));
        Assert.Equal(["m.room.member"], Types(state).Where(t => t == "m.room.member"));
    }
}

public sealed class SqliteRoomConformanceTests(SqliteServerFixture fixture) : RoomConformanceTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomConformanceTests(PostgresServerFixture fixture) : RoomConformanceTests(fixture), IClassFixture<PostgresServerFixture>;
