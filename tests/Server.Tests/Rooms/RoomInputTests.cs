using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>Malformed and hostile requests get the spec's errors, write nothing and leave the server serving.</summary>
public abstract class RoomInputTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static string MessagesOnly => "filter=" + E("{\"types\":[\"m.room.message\"]}");

    [Fact]
    public async Task Bad_event_bodies_are_refused_and_nothing_is_half_written()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        await alice.SendTextAsync(roomId, "before");
        var send = $"/rooms/{E(roomId)}/send/m.room.message/";

        using (var notJson = await alice.RawAsync(Put, send + "a", "{\"body\": "))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var array = await alice.RawAsync(Put, send + "b", "[1,2]"))
            await array.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var empty = await alice.RawAsync(Put, send + "c", null))
            await empty.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var fraction = await alice.RawAsync(Put, send + "d", "{\"weight\": 1.5}"))
            await fraction.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var huge = await alice.RawAsync(Put, send + "e", $"{{\"body\":\"{new string('x', 70_000)}\"}}"))
            await huge.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        using (var justUnder = await alice.RawAsync(Put, send + "f", $"{{\"body\":\"{new string('x', 65_400)}\"}}"))
            await justUnder.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        using (var hugeState = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/state/m.room.topic/", $"{{\"topic\":\"{new string('x', 70_000)}\"}}"))
            await hugeState.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/send/{E(new string('t', 256))}/g", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/{E(new string('t', 256))}", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/state/m.room.create/", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/send/m.room.create/i", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/state/m.room.member/{E("not-a-user")}", new { membership = "join" },
            HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var messages = (await alice.MessagesAsync(roomId, $"dir=b&limit=50&{MessagesOnly}")).GetProperty("chunk");
        Assert.Equal(["before"], Bodies(messages));
        await alice.SendTextAsync(roomId, "after");
        Assert.Equal(["after", "before"], Bodies((await alice.MessagesAsync(roomId, $"dir=b&{MessagesOnly}")).GetProperty("chunk")));
    }

    [Fact]
    public async Task Bad_identifiers_in_paths_are_400_or_404_as_the_spec_says()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var eventId = await alice.SendTextAsync(roomId, "x");

        await alice.FailsAsync(Put, "/rooms/not-a-room/send/m.room.message/t", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/rooms/{E("!no-server")}/state", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/event/not-an-event", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/event/{E("$short")}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/event/{E("$" + new string('x', 300))}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/redact/{E("$short")}/t", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/context/nope", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/invite", new { user_id = "bob" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/invite", new { user_id = 12 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/invite", new { reason = "who?" }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/kick", new { user_id = "@x:localhost", reason = 5 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/typing/not-a-user", new { typing = true }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var otherRoom = await alice.CreateRoomAsync();
        await alice.FailsAsync(Get, $"/rooms/{E(otherRoom)}/event/{E(eventId)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, $"/rooms/{E(otherRoom)}/redact/{E(eventId)}/t", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Bad_pagination_parameters_are_refused()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var messages = $"/rooms/{E(roomId)}/messages";

        await alice.FailsAsync(Get, messages, null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Get, messages + "?dir=up", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, messages + "?dir=b&limit=-1", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, messages + "?dir=b&limit=ten", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, messages + "?dir=b&from=yesterday", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, messages + "?dir=f&to=t-1", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, messages + "?dir=b&filter=" + E("{types:"), null, HttpStatusCode.BadRequest, "M_NOT_JSON");
        await alice.FailsAsync(Get, messages + "?dir=b&filter=" + E("{\"types\":\"m.room.message\"}"), null, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Get, messages + "?dir=b&filter=" + E("{\"limit\":0}"), null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var empty = await alice.MessagesAsync(roomId, "dir=b&limit=0");
        Assert.Equal(0, empty.GetProperty("chunk").GetArrayLength());
        var beyond = await alice.MessagesAsync(roomId, "dir=f&from=t999999");
        Assert.Equal(0, beyond.GetProperty("chunk").GetArrayLength());
        Assert.False(beyond.TryGetProperty("end", out _));
    }

    [Fact]
    public async Task The_server_keeps_serving_and_logs_no_unhandled_errors_after_bad_input()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var errorsBefore = Server.Logs.Entries.Count(e => e.Level >= LogLevel.Error);

        var attempts = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 20; i++)
        {
            attempts.Add(alice.RawAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/bad{i}", i % 2 == 0 ? "{\"n\": 1e400}" : "{\"a\":{\"b\":"));
            attempts.Add(alice.RawAsync(Put, $"/rooms/{E(roomId)}/state/m.room.name/", "{\"name\": [1.25]}"));
        }
        foreach (var response in await Task.WhenAll(attempts))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            response.Dispose();
        }

        await alice.SendTextAsync(roomId, "still here");
        using var health = await Server.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(errorsBefore, Server.Logs.Entries.Count(e => e.Level >= LogLevel.Error));
    }
}

public sealed class SqliteRoomInputTests(SqliteServerFixture fixture) : RoomInputTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomInputTests(PostgresServerFixture fixture) : RoomInputTests(fixture), IClassFixture<PostgresServerFixture>;
