using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Rooms;

public abstract class RoomCreationTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    [Fact]
    public async Task A_room_created_without_options_is_a_private_chat_in_room_version_10()
    {
        var alice = await UserAsync("alice");

        var roomId = await alice.CreateRoomAsync();

        Assert.StartsWith("!", roomId);
        Assert.EndsWith(":localhost", roomId);
        var timeline = (await alice.MessagesAsync(roomId, "dir=f&limit=50")).GetProperty("chunk");
        Assert.Equal(["m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules",
            "m.room.history_visibility", "m.room.guest_access"], Types(timeline));
        var create = timeline[0].GetProperty("content");
        Assert.Equal("10", create.GetProperty("room_version").GetString());
        Assert.Equal(alice.UserId, create.GetProperty("creator").GetString());
        Assert.Equal("invite", (await alice.GetStateEventAsync(roomId, "m.room.join_rules")).GetProperty("join_rule").GetString());
        Assert.Equal("shared", (await alice.GetStateEventAsync(roomId, "m.room.history_visibility")).GetProperty("history_visibility").GetString());
        Assert.Equal("can_join", (await alice.GetStateEventAsync(roomId, "m.room.guest_access")).GetProperty("guest_access").GetString());
        var powerLevels = await alice.GetStateEventAsync(roomId, "m.room.power_levels");
        Assert.Equal(100, powerLevels.GetProperty("users").GetProperty(alice.UserId).GetInt32());
        Assert.Equal(50, powerLevels.GetProperty("state_default").GetInt32());
        Assert.Contains(roomId, await JoinedRoomsAsync(alice));
        Assert.Equal("private", (await alice.OkAsync(Get, $"/directory/list/room/{E(roomId)}")).GetProperty("visibility").GetString());
    }

    [Fact]
    public async Task A_public_chat_gets_every_requested_event_in_the_spec_order()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var alias = $"pub{Guid.NewGuid():N}";

        var roomId = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            visibility = "public",
            room_version = "11",
            name = "The Pub",
            topic = "Happy hour",
            room_alias_name = alias,
            invite = new[] { bob.UserId },
            is_direct = true,
            creation_content = new Dictionary<string, object> { ["m.federate"] = false, ["creator"] = "@someone:else" },
            initial_state = new object[]
            {
                new { type = "m.room.avatar", content = new { url = "mxc://localhost/avatar" } },
                new { type = "m.room.name", state_key = "", content = new { name = "overridden by name" } },
                new { type = "org.example.custom", state_key = "k", content = new { value = 1 } },
            },
        });

        var timeline = (await alice.MessagesAsync(roomId, "dir=f&limit=50")).GetProperty("chunk");
        Assert.Equal(["m.room.create", "m.room.member", "m.room.power_levels", "m.room.canonical_alias", "m.room.join_rules",
            "m.room.history_visibility", "m.room.guest_access", "m.room.avatar", "org.example.custom", "m.room.name",
            "m.room.topic", "m.room.member"], Types(timeline));
        var create = timeline[0].GetProperty("content");
        Assert.Equal("11", create.GetProperty("room_version").GetString());
        Assert.False(create.TryGetProperty("creator", out _));
        Assert.False(create.GetProperty("m.federate").GetBoolean());
        Assert.Equal("public", timeline[4].GetProperty("content").GetProperty("join_rule").GetString());
        Assert.Equal("forbidden", timeline[6].GetProperty("content").GetProperty("guest_access").GetString());
        Assert.Equal("The Pub", (await alice.GetStateEventAsync(roomId, "m.room.name")).GetProperty("name").GetString());
        var topic = await alice.GetStateEventAsync(roomId, "m.room.topic");
        Assert.Equal("Happy hour", topic.GetProperty("topic").GetString());
        Assert.Equal("text/plain", topic.GetProperty("m.topic").GetProperty("m.text")[0].GetProperty("mimetype").GetString());
        var invite = timeline[11];
        Assert.Equal(bob.UserId, invite.GetProperty("state_key").GetString());
        Assert.Equal("invite", invite.GetProperty("content").GetProperty("membership").GetString());
        Assert.True(invite.GetProperty("content").GetProperty("is_direct").GetBoolean());
        Assert.Equal($"#{alias}:localhost", (await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).GetProperty("alias").GetString());
        var resolved = await alice.OkAsync(Get, $"/directory/room/{E($"#{alias}:localhost")}");
        Assert.Equal(roomId, resolved.GetProperty("room_id").GetString());
        Assert.Equal("public", (await alice.OkAsync(Get, $"/directory/list/room/{E(roomId)}")).GetProperty("visibility").GetString());

        await bob.JoinAsync(roomId);
        Assert.Contains(roomId, await JoinedRoomsAsync(bob));
    }

    [Fact]
    public async Task Trusted_private_chat_gives_invitees_the_creators_power_level()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");

        var roomId = await alice.CreateRoomAsync(new { preset = "trusted_private_chat", invite = new[] { bob.UserId } });

        var users = (await alice.GetStateEventAsync(roomId, "m.room.power_levels")).GetProperty("users");
        Assert.Equal(100, users.GetProperty(alice.UserId).GetInt32());
        Assert.Equal(100, users.GetProperty(bob.UserId).GetInt32());
        Assert.Equal("invite", (await alice.GetStateEventAsync(roomId, "m.room.join_rules")).GetProperty("join_rule").GetString());
    }

    [Fact]
    public async Task The_power_level_override_applies_on_top_of_the_defaults()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            power_level_content_override = new { events_default = 20, kick = 75 },
        });
        await bob.JoinAsync(roomId);

        var powerLevels = await alice.GetStateEventAsync(roomId, "m.room.power_levels");
        Assert.Equal(20, powerLevels.GetProperty("events_default").GetInt32());
        Assert.Equal(75, powerLevels.GetProperty("kick").GetInt32());
        Assert.Equal(50, powerLevels.GetProperty("ban").GetInt32());
        await bob.FailsAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/t1", new { body = "hi" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.SendTextAsync(roomId, "allowed");
    }

    [Fact]
    public async Task A_taken_alias_refuses_the_room_and_writes_nothing()
    {
        var alice = await UserAsync("alice");
        var alias = $"taken{Guid.NewGuid():N}";
        await alice.CreateRoomAsync(new { room_alias_name = alias });
        var before = await JoinedRoomsAsync(alice);

        await alice.FailsAsync(Post, "/createRoom", new { room_alias_name = alias, name = "second" }, HttpStatusCode.BadRequest, "M_ROOM_IN_USE");

        Assert.Equal(before, await JoinedRoomsAsync(alice));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("12")]
    [InlineData("01")]
    [InlineData("banana")]
    public async Task Unsupported_room_versions_are_refused(string version)
    {
        var alice = await UserAsync("alice");

        await alice.FailsAsync(Post, "/createRoom", new { room_version = version }, HttpStatusCode.BadRequest, "M_UNSUPPORTED_ROOM_VERSION");

        Assert.Empty(await JoinedRoomsAsync(alice));
    }

    [Fact]
    public async Task Initial_state_the_creator_may_not_send_is_an_invalid_room_state_and_creates_nothing()
    {
        var alice = await UserAsync("alice");

        await alice.FailsAsync(Post, "/createRoom",
            new { name = "locked", power_level_content_override = new { users = new Dictionary<string, int>(), state_default = 50 } },
            HttpStatusCode.BadRequest, "M_INVALID_ROOM_STATE");

        Assert.Empty(await JoinedRoomsAsync(alice));
    }

    [Fact]
    public async Task Bad_creation_requests_are_refused_with_the_matching_error()
    {
        var alice = await UserAsync("alice");

        using (var notJson = await alice.RawAsync(Post, "/createRoom", "{not json"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        await alice.FailsAsync(Post, "/createRoom", new { name = 5 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/createRoom", new { invite = "@bob:localhost" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/createRoom", new { preset = "party" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/createRoom", new { visibility = "everyone" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/createRoom", new { invite = new[] { "bob" } }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/createRoom", new { room_alias_name = "a:b" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/createRoom", new { initial_state = new[] { new { type = "m.room.topic", content = 3 } } },
            HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/createRoom", new { creation_content = new { weight = 3.5 } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var anonymous = await alice.RawAsync(Post, "/createRoom", "{}", authenticated: false))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        Assert.Empty(await JoinedRoomsAsync(alice));
    }
}

public sealed class SqliteRoomCreationTests(SqliteServerFixture fixture) : RoomCreationTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomCreationTests(PostgresServerFixture fixture) : RoomCreationTests(fixture), IClassFixture<PostgresServerFixture>;
