using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Rooms;

public abstract class RoomDirectoryTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    [Fact]
    public async Task Aliases_map_to_rooms_until_deleted()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var alias = $"#home{Guid.NewGuid():N}:localhost";

        Assert.Empty((await alice.OkAsync(Put, $"/directory/room/{E(alias)}", new { room_id = roomId })).EnumerateObject());

        var resolved = await bob.OkAsync(Get, $"/directory/room/{E(alias)}");
        Assert.Equal(roomId, resolved.GetProperty("room_id").GetString());
        Assert.Equal(["localhost"], resolved.GetProperty("servers").EnumerateArray().Select(s => s.GetString()));
        using (var anonymous = await bob.RawAsync(Get, $"/directory/room/{E(alias)}", null, authenticated: false))
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        await alice.FailsAsync(Put, $"/directory/room/{E(alias)}", new { room_id = roomId }, HttpStatusCode.Conflict, "M_UNKNOWN");
        Assert.Equal([alias], (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/aliases")).GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        await bob.FailsAsync(Get, $"/rooms/{E(roomId)}/aliases", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        await bob.JoinAsync(roomId);
        await bob.FailsAsync(Delete, $"/directory/room/{E(alias)}", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.OkAsync(Delete, $"/directory/room/{E(alias)}");

        await bob.FailsAsync(Get, $"/directory/room/{E(alias)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Delete, $"/directory/room/{E(alias)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Empty((await alice.OkAsync(Get, $"/rooms/{E(roomId)}/aliases")).GetProperty("aliases").EnumerateArray());
    }

    [Fact]
    public async Task Alias_requests_are_checked()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync();
        var alias = $"#checked{Guid.NewGuid():N}:localhost";

        await alice.FailsAsync(Put, $"/directory/room/{E("nohash:localhost")}", new { room_id = roomId }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/directory/room/{E("#nocolon")}", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, $"/directory/room/{E("#elsewhere:example.org")}", new { room_id = roomId }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        // Another server's alias is asked of that server (docs/adr/0037); one that cannot be reached is 502, not unknown.
        await alice.FailsAsync(Get, $"/directory/room/{E("#elsewhere:127.0.0.1:9")}", null, HttpStatusCode.BadGateway, "M_UNKNOWN");
        await alice.FailsAsync(Put, $"/directory/room/{E(alias)}", new { }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Put, $"/directory/room/{E(alias)}", new { room_id = 7 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, $"/directory/room/{E(alias)}", new { room_id = "!missing:localhost" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Put, $"/directory/room/{E(alias)}", new { room_id = roomId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Get, $"/directory/room/{E(alias)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Room_admins_and_server_admins_may_delete_aliases_of_others()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var admin = await UserAsync("admin", isAdmin: true);
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var bobsAlias = $"#bobs{Guid.NewGuid():N}:localhost";
        var otherAlias = $"#other{Guid.NewGuid():N}:localhost";
        await bob.OkAsync(Put, $"/directory/room/{E(bobsAlias)}", new { room_id = roomId });
        await bob.OkAsync(Put, $"/directory/room/{E(otherAlias)}", new { room_id = roomId });

        await alice.OkAsync(Delete, $"/directory/room/{E(bobsAlias)}");
        await admin.OkAsync(Delete, $"/directory/room/{E(otherAlias)}");

        await alice.FailsAsync(Get, $"/directory/room/{E(bobsAlias)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, $"/directory/room/{E(otherAlias)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Published_rooms_are_listed_with_their_summary_and_can_be_searched_and_paged()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var tag = Guid.NewGuid().ToString("N");
        var rooms = new List<string>();
        for (var i = 0; i < 3; i++)
            rooms.Add(await alice.CreateRoomAsync(new { preset = "public_chat", visibility = "public", name = $"Room {tag} {i}", topic = $"topic {i}" }));
        var aliasName = $"listed{tag}";
        var withAlias = await alice.CreateRoomAsync(new { visibility = "public", preset = "private_chat", room_alias_name = aliasName, topic = $"about {tag}" });
        await alice.CreateRoomAsync(new { preset = "public_chat", name = $"Room {tag} unlisted" });
        await bob.JoinAsync(rooms[0]);
        rooms.Add(withAlias);
        rooms.Sort(StringComparer.Ordinal);

        async Task<JsonElement> SearchAsync(object body) => await bob.OkAsync(Post, "/publicRooms", body);
        var all = await SearchAsync(new { filter = new { generic_search_term = tag.ToUpperInvariant() } });
        Assert.Equal(rooms, all.GetProperty("chunk").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()));
        Assert.False(all.TryGetProperty("next_batch", out _));

        var first = all.GetProperty("chunk").EnumerateArray().Single(r => r.GetProperty("room_id").GetString() == withAlias);
        Assert.Equal($"#{aliasName}:localhost", first.GetProperty("canonical_alias").GetString());
        Assert.Equal("invite", first.GetProperty("join_rule").GetString());
        Assert.Equal(1, first.GetProperty("num_joined_members").GetInt32());
        Assert.False(first.GetProperty("world_readable").GetBoolean());
        Assert.True(first.GetProperty("guest_can_join").GetBoolean());
        var busy = all.GetProperty("chunk").EnumerateArray().Single(r => r.GetProperty("num_joined_members").GetInt32() == 2);
        Assert.Equal($"Room {tag} 0", busy.GetProperty("name").GetString());
        Assert.Equal("topic 0", busy.GetProperty("topic").GetString());
        Assert.Equal("public", busy.GetProperty("join_rule").GetString());
        Assert.False(busy.GetProperty("guest_can_join").GetBoolean());

        var page1 = await SearchAsync(new { limit = 3, filter = new { generic_search_term = tag } });
        Assert.Equal(rooms[..3], page1.GetProperty("chunk").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()));
        Assert.False(page1.TryGetProperty("prev_batch", out _));
        var page2 = await SearchAsync(new { limit = 3, since = page1.GetProperty("next_batch").GetString(), filter = new { generic_search_term = tag } });
        Assert.Equal(rooms[3..], page2.GetProperty("chunk").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()));
        Assert.False(page2.TryGetProperty("next_batch", out _));
        var back = await SearchAsync(new { limit = 3, since = page2.GetProperty("prev_batch").GetString(), filter = new { generic_search_term = tag } });
        Assert.Equal(rooms[..3], back.GetProperty("chunk").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()));

        var space = await alice.CreateRoomAsync(new { visibility = "public", name = $"Space {tag}", creation_content = new { type = "m.space" } });
        var spaces = await SearchAsync(new { filter = new { generic_search_term = tag, room_types = new[] { "m.space" } } });
        var onlySpace = Assert.Single(spaces.GetProperty("chunk").EnumerateArray());
        Assert.Equal((space, "m.space"), (onlySpace.GetProperty("room_id").GetString(), onlySpace.GetProperty("room_type").GetString()));
        var untyped = await SearchAsync(new { filter = new { generic_search_term = tag, room_types = new string?[] { null } } });
        Assert.Equal(rooms, untyped.GetProperty("chunk").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()));

        using var anonymous = await bob.RawAsync(Get, "/publicRooms?limit=1", null, authenticated: false);
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        var one = await anonymous.ReadJsonAsync();
        Assert.Equal(1, one.GetProperty("chunk").GetArrayLength());
        Assert.True(one.TryGetProperty("next_batch", out _));
        await bob.FailsAsync(Get, "/publicRooms?since=garbage", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Get, "/publicRooms?server=example.org", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        using (var unauthenticatedPost = await bob.RawAsync(Post, "/publicRooms", "{}", authenticated: false))
            await unauthenticatedPost.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    [Fact]
    public async Task Directory_visibility_is_read_by_anyone_and_changed_by_room_admins()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var tag = Guid.NewGuid().ToString("N");
        await alice.SetStateAsync(roomId, "m.room.name", new { name = tag });

        await bob.FailsAsync(Put, $"/directory/list/room/{E(roomId)}", new { visibility = "public" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.OkAsync(Put, $"/directory/list/room/{E(roomId)}", new { visibility = "public" });

        using (var anonymous = await bob.RawAsync(Get, $"/directory/list/room/{E(roomId)}", null, authenticated: false))
            Assert.Equal("public", (await anonymous.ReadJsonAsync()).GetProperty("visibility").GetString());
        var listed = await bob.OkAsync(Post, "/publicRooms", new { filter = new { generic_search_term = tag } });
        Assert.Equal([roomId], listed.GetProperty("chunk").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()));

        await alice.OkAsync(Put, $"/directory/list/room/{E(roomId)}", new { visibility = "private" });
        Assert.Equal("private", (await bob.OkAsync(Get, $"/directory/list/room/{E(roomId)}")).GetProperty("visibility").GetString());
        Assert.Empty((await bob.OkAsync(Post, "/publicRooms", new { filter = new { generic_search_term = tag } })).GetProperty("chunk").EnumerateArray());
        await alice.FailsAsync(Put, $"/directory/list/room/{E(roomId)}", new { visibility = "hidden" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Get, $"/directory/list/room/{E("!unknown:localhost")}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, $"/directory/list/room/{E("!unknown:localhost")}", new { visibility = "public" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }
}

public sealed class SqliteRoomDirectoryTests(SqliteServerFixture fixture) : RoomDirectoryTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomDirectoryTests(PostgresServerFixture fixture) : RoomDirectoryTests(fixture), IClassFixture<PostgresServerFixture>;
