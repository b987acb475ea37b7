using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.RoomExtras;

/// <summary>POST /rooms/{roomId}/upgrade (client-server/room_upgrades.yaml and the spec's Room Upgrades module).</summary>
public abstract class RoomUpgradeTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static async Task<string> UpgradeAsync(RoomsClient user, string roomId, string version) =>
        (await user.OkAsync(Post, $"/rooms/{E(roomId)}/upgrade", new { new_version = version })).GetProperty("replacement_room").GetString()!;

    private static long Level(JsonElement powerLevels, string key) => powerLevels.GetProperty(key).GetInt64();

    [Fact]
    public async Task The_replacement_room_has_the_old_rooms_state_aliases_and_power_and_the_old_room_is_closed()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var localpart = "upgrade-" + Guid.NewGuid().ToString("N")[..8];
        var oldRoom = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            visibility = "public",
            name = "Old name",
            topic = "Old topic",
            room_alias_name = localpart,
            room_version = "10",
            power_level_content_override = new { users = new Dictionary<string, int> { [alice.UserId] = 100, [bob.UserId] = 50 } },
            initial_state = new object[]
            {
                new { type = "m.room.encryption", state_key = "", content = new { algorithm = "m.megolm.v1.aes-sha2" } },
                new { type = "m.room.avatar", state_key = "", content = new { url = "mxc://localhost/avatar" } },
                new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = "world_readable" } },
            },
        });
        var alias = $"#{localpart}:localhost";
        var child = await alice.CreateRoomAsync();
        await alice.SetStateAsync(oldRoom, "m.space.child", new { via = new[] { "localhost" } }, child);
        await bob.JoinAsync(oldRoom);
        await carol.JoinAsync(oldRoom);
        var lastMessage = await alice.SendTextAsync(oldRoom, "last words");
        var oldPowerLevels = await alice.GetStateEventAsync(oldRoom, "m.room.power_levels");

        var newRoom = await UpgradeAsync(alice, oldRoom, "11");
        Assert.NotEqual(oldRoom, newRoom);

        var tombstone = await alice.GetStateEventAsync(oldRoom, "m.room.tombstone");
        Assert.Equal(newRoom, tombstone.GetProperty("replacement_room").GetString());
        Assert.False(string.IsNullOrEmpty(tombstone.GetProperty("body").GetString()));

        var create = await alice.GetStateEventAsync(newRoom, "m.room.create");
        Assert.Equal("11", create.GetProperty("room_version").GetString());
        Assert.Equal(oldRoom, create.GetProperty("predecessor").GetProperty("room_id").GetString());
        Assert.Equal(lastMessage, create.GetProperty("predecessor").GetProperty("event_id").GetString());
        Assert.False(create.TryGetProperty("creator", out _)); // version 11: the sender is the creator

        Assert.Equal("Old name", (await alice.GetStateEventAsync(newRoom, "m.room.name")).GetProperty("name").GetString());
        Assert.Equal("Old topic", (await alice.GetStateEventAsync(newRoom, "m.room.topic")).GetProperty("topic").GetString());
        Assert.Equal("mxc://localhost/avatar", (await alice.GetStateEventAsync(newRoom, "m.room.avatar")).GetProperty("url").GetString());
        Assert.Equal("m.megolm.v1.aes-sha2", (await alice.GetStateEventAsync(newRoom, "m.room.encryption")).GetProperty("algorithm").GetString());
        Assert.Equal("world_readable", (await alice.GetStateEventAsync(newRoom, "m.room.history_visibility")).GetProperty("history_visibility").GetString());
        Assert.Equal("public", (await alice.GetStateEventAsync(newRoom, "m.room.join_rules")).GetProperty("join_rule").GetString());
        Assert.Equal("forbidden", (await alice.GetStateEventAsync(newRoom, "m.room.guest_access")).GetProperty("guest_access").GetString());
        Assert.Equal("localhost", (await alice.GetStateEventAsync(newRoom, "m.space.child", child)).GetProperty("via")[0].GetString());
        var newPowerLevels = await alice.GetStateEventAsync(newRoom, "m.room.power_levels");
        Assert.Equal(50, newPowerLevels.GetProperty("users").GetProperty(bob.UserId).GetInt64());
        Assert.Equal(100, newPowerLevels.GetProperty("users").GetProperty(alice.UserId).GetInt64());
        Assert.Equal(Level(oldPowerLevels, "state_default"), Level(newPowerLevels, "state_default"));

        // Members are not moved: only the upgrading user is in the new room; the others follow the tombstone.
        Assert.Contains(newRoom, await JoinedRoomsAsync(alice));
        Assert.DoesNotContain(newRoom, await JoinedRoomsAsync(bob));
        await bob.JoinAsync(newRoom);

        // The alias, the canonical alias and the directory listing move to the new room.
        Assert.Equal(newRoom, (await alice.OkAsync(Get, $"/directory/room/{E(alias)}")).GetProperty("room_id").GetString());
        Assert.Equal(alias, (await alice.GetStateEventAsync(newRoom, "m.room.canonical_alias")).GetProperty("alias").GetString());
        Assert.Equal("{}", (await alice.GetStateEventAsync(oldRoom, "m.room.canonical_alias")).GetRawText());
        Assert.Equal("public", (await alice.OkAsync(Get, $"/directory/list/room/{E(newRoom)}")).GetProperty("visibility").GetString());
        Assert.Equal("private", (await alice.OkAsync(Get, $"/directory/list/room/{E(oldRoom)}")).GetProperty("visibility").GetString());

        // The old room stops ordinary members from talking and inviting.
        var restricted = await alice.GetStateEventAsync(oldRoom, "m.room.power_levels");
        Assert.Equal(50, Level(restricted, "events_default"));
        Assert.Equal(50, Level(restricted, "invite"));
        await carol.FailsAsync(Put, $"/rooms/{E(oldRoom)}/send/m.room.message/{carol.NextTxnId()}", new { msgtype = "m.text", body = "hi" },
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.SendTextAsync(oldRoom, "moderators still can");
    }

    [Fact]
    public async Task A_user_who_may_only_send_the_tombstone_is_raised_while_copying_and_then_restored()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var oldRoom = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            name = "Guarded",
            power_level_content_override = new
            {
                users = new Dictionary<string, int> { [alice.UserId] = 100, [bob.UserId] = 60 },
                events = new Dictionary<string, int> { ["m.room.tombstone"] = 60, ["m.room.power_levels"] = 100, ["m.room.history_visibility"] = 100, ["m.room.encryption"] = 100 },
            },
        });
        await bob.JoinAsync(oldRoom);
        var before = await alice.GetStateEventAsync(oldRoom, "m.room.power_levels");

        var newRoom = await UpgradeAsync(bob, oldRoom, "10");
        var after = await bob.GetStateEventAsync(newRoom, "m.room.power_levels");
        Assert.Equal(60, after.GetProperty("users").GetProperty(bob.UserId).GetInt64());
        Assert.Equal(100, after.GetProperty("users").GetProperty(alice.UserId).GetInt64());
        Assert.Equal(100, after.GetProperty("events").GetProperty("m.room.history_visibility").GetInt64());
        Assert.Equal("Guarded", (await bob.GetStateEventAsync(newRoom, "m.room.name")).GetProperty("name").GetString());
        Assert.Equal("10", (await bob.GetStateEventAsync(newRoom, "m.room.create")).GetProperty("room_version").GetString());

        // Bob may send the tombstone but not change the old room's power levels: they stay as they were.
        Assert.Equal(newRoom, (await bob.GetStateEventAsync(oldRoom, "m.room.tombstone")).GetProperty("replacement_room").GetString());
        Assert.Equal(before.GetRawText(), (await bob.GetStateEventAsync(oldRoom, "m.room.power_levels")).GetRawText());
    }

    [Fact]
    public async Task Power_levels_written_as_strings_in_an_old_version_become_integers_in_the_new_one()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var oldRoom = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            room_version = "1",
            power_level_content_override = new
            {
                users = new Dictionary<string, object> { [alice.UserId] = 100, [bob.UserId] = "60" },
                events = new Dictionary<string, object> { ["m.room.tombstone"] = "60", ["m.room.power_levels"] = 100 },
                state_default = "50",
            },
        });
        await bob.JoinAsync(oldRoom);

        var newRoom = await UpgradeAsync(bob, oldRoom, "10");
        var levels = await bob.GetStateEventAsync(newRoom, "m.room.power_levels");
        Assert.Equal(JsonValueKind.Number, levels.GetProperty("users").GetProperty(bob.UserId).ValueKind);
        Assert.Equal(60, levels.GetProperty("users").GetProperty(bob.UserId).GetInt64());
        Assert.Equal(60, levels.GetProperty("events").GetProperty("m.room.tombstone").GetInt64());
        Assert.Equal(50, levels.GetProperty("state_default").GetInt64());
        var create = await bob.GetStateEventAsync(newRoom, "m.room.create");
        Assert.Equal(bob.UserId, create.GetProperty("creator").GetString());
        Assert.Equal(oldRoom, create.GetProperty("predecessor").GetProperty("room_id").GetString());
    }

    [Fact]
    public async Task Upgrades_are_refused_for_bad_versions_outsiders_and_the_powerless_and_change_nothing()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var mallory = await UserAsync("mallory");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var roomsBefore = (await JoinedRoomsAsync(alice)).Length;
        var path = $"/rooms/{E(roomId)}/upgrade";

        await alice.FailsAsync(Post, path, new { new_version = "99" }, HttpStatusCode.BadRequest, "M_UNSUPPORTED_ROOM_VERSION");
        await alice.FailsAsync(Post, path, new { new_version = "" }, HttpStatusCode.BadRequest, "M_UNSUPPORTED_ROOM_VERSION");
        await alice.FailsAsync(Post, path, new { }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Post, path, new { new_version = 11 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var notJson = await alice.RawAsync(Post, path, "{"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        await bob.FailsAsync(Post, path, new { new_version = "11" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await mallory.FailsAsync(Post, path, new { new_version = "11" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Post, $"/rooms/{E("!unknown:localhost")}/upgrade", new { new_version = "11" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Post, "/rooms/not-a-room/upgrade", new { new_version = "11" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var anonymous = await alice.RawAsync(Post, path, "{\"new_version\":\"11\"}", authenticated: false))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/state/m.room.tombstone/", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal(roomsBefore, (await JoinedRoomsAsync(alice)).Length);
        Assert.Equal(0, (await alice.GetStateEventAsync(roomId, "m.room.power_levels")).GetProperty("events_default").GetInt64());
    }
}

public sealed class SqliteRoomUpgradeTests(SqliteServerFixture fixture) : RoomUpgradeTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomUpgradeTests(PostgresServerFixture fixture) : RoomUpgradeTests(fixture), IClassFixture<PostgresServerFixture>;
