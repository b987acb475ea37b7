using System.Net;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Since tokens across restarts, and the requests /sync refuses.</summary>
public abstract class SyncTokenTests : SyncTestBase
{
    [Fact]
    public async Task A_token_from_before_a_restart_returns_exactly_the_events_sent_since_once()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        await alice.Rooms.SendTextAsync(roomId, "before");
        var token = NextBatch(await alice.SyncAsync());
        await bob.Rooms.SendTextAsync(roomId, "missed 1");
        await bob.Rooms.SendTextAsync(roomId, "missed 2");
        await bob.Rooms.SendTextAsync(roomId, "missed 3");

        await RestartAsync();
        alice = alice.On(Server);
        var sync = await alice.SyncSinceAsync(token);

        var room = Joined(sync, roomId);
        Assert.Equal(["missed 1", "missed 2", "missed 3"], Bodies(room));
        Assert.False(Timeline(room).GetProperty("limited").GetBoolean());
        Assert.Empty(StateKeys(room));
        var again = await alice.SyncSinceAsync(NextBatch(sync), "timeout=300");
        Assert.False(HasJoined(again, roomId));

        await bob.On(Server).Rooms.SendTextAsync(roomId, "after the restart");
        var next = await alice.SyncSinceAsync(NextBatch(again), "timeout=5000");
        Assert.Equal(["after the restart"], Bodies(Joined(next, roomId)));
    }

    [Fact]
    public async Task Missing_and_unknown_access_tokens_are_refused()
    {
        var response = await Server.Client.GetAsync("/_matrix/client/v3/sync");
        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        var request = new HttpRequestMessage(HttpMethod.Get, "/_matrix/client/v3/sync");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "mat_bm9ib2R5_" + new string('A', 43));
        await (await Server.Client.SendAsync(request)).AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }

    [Theory]
    [InlineData("since=garbage", "M_INVALID_PARAM")]
    [InlineData("since=s1_2_3", "M_INVALID_PARAM")]
    [InlineData("since=s01_0_0_1.0", "M_INVALID_PARAM")]
    [InlineData("since=s999999_0_0_1.0", "M_INVALID_PARAM")]
    [InlineData("filter=%7Bnot%20json", "M_NOT_JSON")]
    [InlineData("filter=%7B%22room%22%3A%5B%5D%7D", "M_BAD_JSON")]
    [InlineData("filter=%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A-1%7D%7D%7D", "M_BAD_JSON")]
    [InlineData("filter=%7B%22room%22%3A%7B%22timeline%22%3A%7B%22types%22%3A%5B1%5D%7D%7D%7D", "M_BAD_JSON")]
    [InlineData("filter=12345", "M_INVALID_PARAM")]
    [InlineData("filter=not-a-filter-id", "M_INVALID_PARAM")]
    [InlineData("timeout=soon", "M_INVALID_PARAM")]
    [InlineData("full_state=yes", "M_INVALID_PARAM")]
    [InlineData("set_presence=busy", "M_INVALID_PARAM")]
    public async Task Bad_parameters_are_refused_with_400(string query, string errcode)
    {
        var alice = await RegisterAsync("alice");

        var response = await alice.GetAsync("/_matrix/client/v3/sync?" + query);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
    }

    [Fact]
    public async Task Set_presence_and_negative_timeouts_are_accepted()
    {
        var alice = await RegisterAsync("alice");
        var initial = await alice.SyncAsync("set_presence=offline");

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var sync = await alice.SyncSinceAsync(NextBatch(initial), "set_presence=unavailable&timeout=-5");

        // A negative timeout is no timeout: answered at once, not parked until the 5-minute cap.
        // The token itself may move: presence is marked best effort, and another user's late mark moves the stream.
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20));
        Assert.False(sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var joined) && joined.EnumerateObject().Any());
        await alice.SyncSinceAsync(NextBatch(sync), "timeout=0");
    }
}

public sealed class SqliteSyncTokenTests : SyncTokenTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncTokenTests : SyncTokenTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
