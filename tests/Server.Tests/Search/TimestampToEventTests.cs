using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Search;

/// <summary>GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event (room_event_by_timestamp.yaml).</summary>
public abstract class TimestampToEventTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private async Task<HttpResponseMessage> LookUpAsync(RoomsClient user, string roomId, string query)
    {
        using var request = new HttpRequestMessage(Get, $"/_matrix/client/v1/rooms/{E(roomId)}/timestamp_to_event?{query}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.User.AccessToken);
        return await Server.Client.SendAsync(request);
    }

    private async Task<(string EventId, long Ts)> FindAsync(RoomsClient user, string roomId, long ts, string dir)
    {
        using var response = await LookUpAsync(user, roomId, $"ts={ts}&dir={dir}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"ts={ts}&dir={dir} answered {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        return (body.GetProperty("event_id").GetString()!, body.GetProperty("origin_server_ts").GetInt64());
    }

    private async Task NotFoundAsync(RoomsClient user, string roomId, long ts, string dir)
    {
        using var response = await LookUpAsync(user, roomId, $"ts={ts}&dir={dir}");
        await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    private static async Task<long> TimestampAsync(RoomsClient user, string roomId, string eventId) =>
        (await user.GetEventAsync(roomId, eventId)).GetProperty("origin_server_ts").GetInt64();

    /// <summary>Sends a message at a later millisecond than everything sent before.</summary>
    private static async Task<(string EventId, long Ts)> SendLaterAsync(RoomsClient user, string roomId, string body)
    {
        await Task.Delay(5);
        var eventId = await user.SendTextAsync(roomId, body);
        return (eventId, await TimestampAsync(user, roomId, eventId));
    }

    [Fact]
    public async Task The_nearest_event_is_found_in_either_direction_and_none_past_the_ends()
    {
        var alice = await UserAsync("alice");
        var room = await alice.CreateRoomAsync();
        var first = await SendLaterAsync(alice, room, "first");
        var second = await SendLaterAsync(alice, room, "second");
        var third = await SendLaterAsync(alice, room, "third");

        Assert.Equal(second, await FindAsync(alice, room, second.Ts, "f"));
        Assert.Equal(second, await FindAsync(alice, room, second.Ts, "b"));
        Assert.Equal(third, await FindAsync(alice, room, second.Ts + 1, "f"));
        Assert.Equal(first, await FindAsync(alice, room, second.Ts - 1, "b"));
        Assert.Equal(third, await FindAsync(alice, room, long.MaxValue, "b"));
        await NotFoundAsync(alice, room, third.Ts + 1, "f");

        var created = await FindAsync(alice, room, 0, "f");
        var state = await alice.OkAsync(Get, $"/rooms/{E(room)}/state");
        Assert.Equal(FindState(state, "m.room.create")!.Value.GetProperty("event_id").GetString(), created.EventId);
        await NotFoundAsync(alice, room, created.Ts - 1, "b");
        await NotFoundAsync(alice, room, long.MinValue, "b");
    }

    [Fact]
    public async Task Only_events_the_user_may_see_are_found()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SetStateAsync(room, "m.room.history_visibility", new { history_visibility = "joined" });
        var hidden = await SendLaterAsync(alice, room, "before bob");
        await bob.JoinAsync(room);
        var seen = await SendLaterAsync(alice, room, "while bob is here");
        await bob.LeaveAsync(room);
        var after = await SendLaterAsync(alice, room, "after bob left");

        Assert.Equal(after, await FindAsync(alice, room, after.Ts, "b"));
        Assert.Equal(seen, await FindAsync(bob, room, seen.Ts, "f"));
        // The message sent before bob joined is hidden from him: his own join comes next, the visibility change before.
        var forward = await FindAsync(bob, room, hidden.Ts, "f");
        Assert.NotEqual(hidden.EventId, forward.EventId);
        Assert.InRange(forward.Ts, hidden.Ts, seen.Ts);
        Assert.NotEqual(hidden.EventId, (await FindAsync(bob, room, hidden.Ts, "b")).EventId);
        // Nothing after he left is his to see: backwards he finds his own leave.
        await NotFoundAsync(bob, room, after.Ts, "f");
        var backward = await FindAsync(bob, room, after.Ts, "b");
        Assert.InRange(backward.Ts, seen.Ts, after.Ts - 1);

        using var outsider = await LookUpAsync(carol, room, $"ts={seen.Ts}&dir=f");
        await outsider.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Bad_parameters_are_refused()
    {
        var alice = await UserAsync("alice");
        var room = await alice.CreateRoomAsync();
        foreach (var (query, errcode) in new[]
                 {
                     ("dir=f", "M_MISSING_PARAM"), ("ts=1", "M_MISSING_PARAM"), ("ts=soon&dir=f", "M_INVALID_PARAM"),
                     ("ts=1.5&dir=f", "M_INVALID_PARAM"), ("ts=1&dir=forward", "M_INVALID_PARAM"),
                 })
        {
            using var response = await LookUpAsync(alice, room, query);
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
        }
        using var badRoom = await LookUpAsync(alice, "not-a-room", "ts=1&dir=f");
        Assert.Equal(HttpStatusCode.BadRequest, badRoom.StatusCode);
    }
}

public sealed class SqliteTimestampToEventTests(SqliteServerFixture fixture) : TimestampToEventTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresTimestampToEventTests(PostgresServerFixture fixture) : TimestampToEventTests(fixture), IClassFixture<PostgresServerFixture>;
