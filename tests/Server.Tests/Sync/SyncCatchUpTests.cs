using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// A client that falls a little behind because the sync grain activation it waited on is gone (a silo that died, a drain,
/// a restart: its token names another activation) gets every event it missed, across consecutive responses of at most
/// the filter's limit, and never a gap; only a room with more than 100 new events is cut to its newest ones with
/// <c>limited</c>, as for a client that was away. A token of the same activation gets a gapped, limited timeline as soon
/// as more events than the limit are new (<see cref="SyncContractTests"/>).
/// </summary>
public abstract class SyncCatchUpTests : SyncTestBase
{
    private static string LimitFilter(int limit) => "filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":" + limit + "}}}");

    [Fact]
    public async Task A_short_backlog_beyond_the_limit_arrives_whole_over_consecutive_responses_that_are_never_limited()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        var since = NextBatch(await alice.SyncAsync());
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 25);
        alice = await OnNewActivationAsync(alice);

        var responses = await SyncUntilEmptyAsync(alice, since, LimitFilter(10));

        Assert.Equal(Enumerable.Range(1, 25).Select(i => $"message {i}"), responses.SelectMany(r => r.Bodies(roomId)));
        Assert.Equal([10, 10, 5], responses.Select(r => r.Bodies(roomId).Count));
        Assert.All(responses, r => Assert.False(r.Limited(roomId)));
    }

    [Fact]
    public async Task Interleaved_backlogs_of_several_rooms_arrive_whole_with_each_room_within_its_limit_per_response()
    {
        var alice = await RegisterAsync("alice");
        var busy = await Rooms.CreateRoomAsync(alice.UserId);
        var quiet = await Rooms.CreateRoomAsync(alice.UserId);
        var since = NextBatch(await alice.SyncAsync());
        for (var i = 1; i <= 30; i++)
        {
            await Rooms.SendMessageAsync(busy, alice.UserId, $"busy {i}");
            if (i % 3 == 0) await Rooms.SendMessageAsync(quiet, alice.UserId, $"quiet {i / 3}");
        }
        alice = await OnNewActivationAsync(alice);

        var responses = await SyncUntilEmptyAsync(alice, since, LimitFilter(4));

        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"busy {i}"), responses.SelectMany(r => r.Bodies(busy)));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"quiet {i}"), responses.SelectMany(r => r.Bodies(quiet)));
        Assert.All(responses, r =>
        {
            Assert.InRange(r.Bodies(busy).Count, 0, 4);
            Assert.InRange(r.Bodies(quiet).Count, 0, 4);
            Assert.False(r.Limited(busy) || r.Limited(quiet));
        });
    }

    [Fact]
    public async Task A_backlog_of_more_than_100_events_is_cut_to_the_newest_with_limited_while_a_short_one_beside_it_is_not()
    {
        var alice = await RegisterAsync("alice");
        var busy = await Rooms.CreateRoomAsync(alice.UserId);
        var quiet = await Rooms.CreateRoomAsync(alice.UserId);
        var since = NextBatch(await alice.SyncAsync());
        await Rooms.SendMessagesAsync(quiet, alice.UserId, 3, "quiet");
        await Rooms.SendMessagesAsync(busy, alice.UserId, 101, "busy");

        var responses = await SyncUntilEmptyAsync(alice, since, LimitFilter(10));

        var first = Assert.Single(responses);
        Assert.True(first.Limited(busy));
        Assert.Equal(Enumerable.Range(92, 10).Select(i => $"busy {i}"), first.Bodies(busy));
        Assert.False(first.Limited(quiet));
        Assert.Equal(["quiet 1", "quiet 2", "quiet 3"], first.Bodies(quiet));
    }

    [Fact]
    public async Task A_long_poll_parked_after_the_last_part_of_a_backlog_wakes_for_the_next_message()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        var since = NextBatch(await alice.SyncAsync());
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 7);
        alice = await OnNewActivationAsync(alice);
        var caughtUp = await SyncUntilEmptyAsync(alice, since, LimitFilter(3));
        Assert.Equal(7, caughtUp.Sum(r => r.Bodies(roomId).Count));

        var parked = alice.SyncSinceAsync(caughtUp[^1].NextBatch, LimitFilter(3) + "&timeout=10000");
        await Task.Delay(200);
        await Rooms.SendMessageAsync(roomId, alice.UserId, "after the backlog");

        var woken = new Response(await parked);
        Assert.Equal(["after the backlog"], woken.Bodies(roomId));
    }

    [Fact]
    public async Task Messages_of_a_room_left_after_the_end_of_a_part_of_the_backlog_arrive_before_the_leave_also_after_a_restart()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var busy = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        var leaving = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        foreach (var roomId in new[] { busy, leaving }) await bob.Rooms.JoinAsync(roomId);
        var since = NextBatch(await bob.SyncAsync());
        for (var i = 1; i <= 3; i++) await alice.Rooms.SendTextAsync(leaving, $"before leaving {i}");
        for (var i = 1; i <= 25; i++) await alice.Rooms.SendTextAsync(busy, $"busy {i}");
        await bob.Rooms.LeaveAsync(leaving);
        // A new sync grain activation knows nothing of the memberships it did not see change.
        await RestartAsync();
        bob = bob.On(Server);

        var responses = await SyncUntilEmptyAsync(bob, since, LimitFilter(10), section: "leave");

        Assert.Equal(Enumerable.Range(1, 25).Select(i => $"busy {i}"), responses.SelectMany(r => r.Bodies(busy)));
        Assert.Equal(["before leaving 1", "before leaving 2", "before leaving 3"],
            responses.SelectMany(r => r.Bodies(leaving).Concat(r.Bodies(leaving, "leave"))));
        Assert.Single(responses, r => r.RoomIds("leave").Contains(leaving));
    }

    [Fact]
    public async Task A_message_committed_by_a_room_activation_that_died_before_handing_it_on_reaches_a_parked_long_poll_when_the_room_activates_again()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var since = NextBatch(await bob.SyncAsync());
        await RestartAsync();
        (alice, bob) = (alice.On(Server), bob.On(Server));

        // Bob's sync grain is active (and knows the store's positions) before the message is written. This first sync
        // leaves the room out, so that it neither reads the room's typing nor wakes its grain.
        var warm = new Response(await bob.SyncSinceAsync(since, "timeout=0&filter=" + Uri.EscapeDataString("{\"room\":{\"rooms\":[]}}")));
        Assert.Empty(warm.RoomIds());
        var parked = bob.SyncSinceAsync(warm.NextBatch, "timeout=10000");
        await Task.Delay(300);
        await Rooms.SendMessageUnannouncedAsync(roomId, alice.UserId, "committed, never handed on");
        // Any call activates the room again; here a read that writes nothing.
        Assert.True((await alice.GetAsync($"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/state")).IsSuccessStatusCode);

        Assert.Equal(["committed, never handed on"], new Response(await parked).Bodies(roomId));
    }

    /// <summary>Restarts the server, so the user's next sync reaches a new activation of its sync grain, as after a silo died.</summary>
    private async Task<SyncUser> OnNewActivationAsync(SyncUser user)
    {
        await RestartAsync();
        return user.On(Server);
    }

    /// <summary>Syncs with timeout 0 from <paramref name="since"/> until a response brings no room; returns those that did.</summary>
    private static async Task<List<Response>> SyncUntilEmptyAsync(SyncUser user, string since, string query, string section = "join")
    {
        var responses = new List<Response>();
        for (var round = 0; round < 50; round++)
        {
            var response = new Response(await user.SyncSinceAsync(since, query + "&timeout=0"));
            if (response.RoomIds().Count == 0 && response.RoomIds(section).Count == 0) return responses;
            responses.Add(response);
            since = response.NextBatch;
        }
        throw new InvalidOperationException("The backlog did not end within 50 responses.");
    }

    private sealed class Response(JsonElement sync)
    {
        public string NextBatch => SyncCatchUpTests.NextBatch(sync);

        public IReadOnlyList<string> RoomIds(string section = "join") =>
            HasRooms(section, out var rooms) ? rooms.EnumerateObject().Select(r => r.Name).ToList() : [];

        public List<string> Bodies(string roomId, string section = "join") =>
            HasRoom(roomId, section, out var room) ? SyncCatchUpTests.Bodies(room) : [];

        public bool Limited(string roomId) => HasRoom(roomId, "join", out var room) && Timeline(room).GetProperty("limited").GetBoolean();

        private bool HasRooms(string section, out JsonElement rooms)
        {
            rooms = default;
            return sync.TryGetProperty("rooms", out var all) && all.TryGetProperty(section, out rooms);
        }

        private bool HasRoom(string roomId, string section, out JsonElement room)
        {
            room = default;
            return HasRooms(section, out var rooms) && rooms.TryGetProperty(roomId, out room);
        }
    }
}

public sealed class SqliteSyncCatchUpTests : SyncCatchUpTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncCatchUpTests : SyncCatchUpTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
