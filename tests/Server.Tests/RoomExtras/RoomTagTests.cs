using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.RoomExtras;

/// <summary>Room tags as a client sees them (client-server/tags.yaml, m.tag in /sync room account data).</summary>
public abstract class RoomTagTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static string TagsPath(RoomsClient user, string roomId, string? tag = null) =>
        $"/user/{E(user.UserId)}/rooms/{E(roomId)}/tags" + (tag is null ? "" : "/" + E(tag));

    private static JsonElement? RoomTagEvent(JsonElement sync, string roomId)
    {
        if (!sync.TryGetProperty("rooms", out var rooms) || !rooms.TryGetProperty("join", out var join)
            || !join.TryGetProperty(roomId, out var room)) return null;
        return room.GetProperty("account_data").GetProperty("events").EnumerateArray().Cast<JsonElement?>()
            .LastOrDefault(e => e!.Value.GetProperty("type").GetString() == "m.tag");
    }

    [Fact]
    public async Task Tags_are_added_listed_replaced_and_removed()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        Assert.Equal("{\"tags\":{}}", (await alice.OkAsync(Get, TagsPath(alice, roomId))).GetRawText());
        Assert.Equal("{}", (await alice.OkAsync(Put, TagsPath(alice, roomId, "u.work"), new { order = 0.25 })).GetRawText());
        await alice.OkAsync(Put, TagsPath(alice, roomId, "m.favourite"), new { });
        // Extra keys of the tag object are kept; order 0 and 1 are the ends of the range and allowed.
        await alice.OkAsync(Put, TagsPath(alice, roomId, "u.ends"), new { order = 1, colour = "red" });
        await alice.OkAsync(Put, TagsPath(alice, roomId, "u.start"), new { order = 0 });

        var tags = (await alice.OkAsync(Get, TagsPath(alice, roomId))).GetProperty("tags");
        Assert.Equal(0.25, tags.GetProperty("u.work").GetProperty("order").GetDouble());
        Assert.Equal("{}", tags.GetProperty("m.favourite").GetRawText());
        Assert.Equal("red", tags.GetProperty("u.ends").GetProperty("colour").GetString());
        Assert.Equal(4, tags.EnumerateObject().Count());

        await alice.OkAsync(Put, TagsPath(alice, roomId, "u.work"), new { order = 0.5 });
        await alice.OkAsync(Delete, TagsPath(alice, roomId, "m.favourite"));
        // Removing a tag the room does not have succeeds, as removing one twice should.
        await alice.OkAsync(Delete, TagsPath(alice, roomId, "m.favourite"));
        tags = (await alice.OkAsync(Get, TagsPath(alice, roomId))).GetProperty("tags");
        Assert.Equal(0.5, tags.GetProperty("u.work").GetProperty("order").GetDouble());
        Assert.False(tags.TryGetProperty("m.favourite", out _));

        // Tags are the m.tag room account data, readable there too.
        var accountData = await alice.OkAsync(Get, $"/user/{E(alice.UserId)}/rooms/{E(roomId)}/account_data/m.tag");
        Assert.Equal(0.5, accountData.GetProperty("tags").GetProperty("u.work").GetProperty("order").GetDouble());
    }

    [Fact]
    public async Task Tags_reach_sync_as_room_account_data()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        await alice.OkAsync(Put, TagsPath(alice, roomId, "u.work"), new { order = 0.1 });

        var initial = await alice.OkAsync(Get, "/sync?timeout=0");
        var tagEvent = RoomTagEvent(initial, roomId) ?? throw new Xunit.Sdk.XunitException("m.tag missing from the initial sync");
        Assert.Equal(0.1, tagEvent.GetProperty("content").GetProperty("tags").GetProperty("u.work").GetProperty("order").GetDouble());

        var since = initial.GetProperty("next_batch").GetString()!;
        await alice.OkAsync(Put, TagsPath(alice, roomId, "m.lowpriority"), new { });
        var incremental = await alice.OkAsync(Get, $"/sync?timeout=5000&since={E(since)}");
        var tags = (RoomTagEvent(incremental, roomId) ?? throw new Xunit.Sdk.XunitException("m.tag missing from the incremental sync"))
            .GetProperty("content").GetProperty("tags");
        Assert.True(tags.TryGetProperty("m.lowpriority", out _));
        Assert.True(tags.TryGetProperty("u.work", out _));
    }

    [Fact]
    public async Task Bad_order_and_bad_bodies_are_refused_and_store_nothing()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        await alice.OkAsync(Put, TagsPath(alice, roomId, "u.kept"), new { order = 0.3 });

        await alice.FailsAsync(Put, TagsPath(alice, roomId, "u.x"), new { order = 1.5 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, TagsPath(alice, roomId, "u.x"), new { order = -0.1 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, TagsPath(alice, roomId, "u.x"), new { order = "0.5" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, TagsPath(alice, roomId, "u.kept"), new { order = 2 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var notJson = await alice.RawAsync(Put, TagsPath(alice, roomId, "u.x"), "{not json"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var huge = await alice.RawAsync(Put, TagsPath(alice, roomId, "u.x"), "{\"order\":1e400}"))
            await huge.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var array = await alice.RawAsync(Put, TagsPath(alice, roomId, "u.x"), "[0.5]"))
            await array.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, TagsPath(alice, roomId, new string('t', 256)), new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var tags = (await alice.OkAsync(Get, TagsPath(alice, roomId))).GetProperty("tags");
        Assert.Equal(["u.kept"], tags.EnumerateObject().Select(t => t.Name).ToArray());
        Assert.Equal(0.3, tags.GetProperty("u.kept").GetProperty("order").GetDouble());
    }

    [Fact]
    public async Task Only_the_user_themselves_reads_or_changes_their_tags()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await alice.OkAsync(Put, TagsPath(alice, roomId, "u.mine"), new { });

        await bob.FailsAsync(Get, TagsPath(alice, roomId), null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Put, TagsPath(alice, roomId, "u.bob"), new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Delete, TagsPath(alice, roomId, "u.mine"), null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal("{\"tags\":{}}", (await bob.OkAsync(Get, TagsPath(bob, roomId))).GetRawText());

        var tags = (await alice.OkAsync(Get, TagsPath(alice, roomId))).GetProperty("tags");
        Assert.Equal(["u.mine"], tags.EnumerateObject().Select(t => t.Name).ToArray());

        await alice.FailsAsync(Get, $"/user/{E(alice.UserId)}/rooms/not-a-room/tags", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using var anonymous = await alice.RawAsync(Get, TagsPath(alice, roomId), null, authenticated: false);
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }
}

public sealed class SqliteRoomTagTests(SqliteServerFixture fixture) : RoomTagTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomTagTests(PostgresServerFixture fixture) : RoomTagTests(fixture), IClassFixture<PostgresServerFixture>;
