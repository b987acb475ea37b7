using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// The spec's "Room History Visibility" applied to /sync timelines (initial, newly joined in an incremental sync, left
/// rooms), and /messages agreeing with them: world_readable, shared, invited and joined, the visibility change at its
/// boundary and the user's own member events.
/// </summary>
public abstract class HistoryVisibilitySyncTests : SyncTestBase
{
    private static readonly string Wide = "filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":50},\"include_leave\":true}}");

    private static List<(string Type, string? Body)> Events(JsonElement room) =>
        Timeline(room).GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("type").GetString()!,
                e.GetProperty("content").TryGetProperty("body", out var body) ? body.GetString()
                : e.GetProperty("content").TryGetProperty("history_visibility", out var visibility) ? visibility.GetString()
                : e.GetProperty("content").TryGetProperty("membership", out var membership) ? $"{e.GetProperty("state_key").GetString()} {membership.GetString()}"
                : null))
            .ToList();

    private static List<string> MessageBodies(JsonElement room) =>
        Events(room).Where(e => e.Type == "m.room.message").Select(e => e.Body!).ToList();

    /// <summary>A public room whose history visibility is <paramref name="visibility"/> from its creation; "before" sent before bob is invited, "invited" while he is, "after" once he joined.</summary>
    private async Task<(SyncUser Alice, SyncUser Bob, string RoomId)> RoomBobJoinsLateAsync(string visibility)
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "public_chat",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = visibility } } },
        });
        await alice.Rooms.SendTextAsync(roomId, "before");
        await alice.Rooms.InviteAsync(roomId, bob.UserId);
        await alice.Rooms.SendTextAsync(roomId, "invited");
        await bob.Rooms.JoinAsync(roomId);
        await alice.Rooms.SendTextAsync(roomId, "after");
        return (alice, bob, roomId);
    }

    [Theory]
    [InlineData("world_readable", new[] { "before", "invited", "after" })]
    [InlineData("shared", new[] { "before", "invited", "after" })]
    [InlineData("invited", new[] { "invited", "after" })]
    [InlineData("joined", new[] { "after" })]
    public async Task An_initial_sync_shows_a_late_joiner_the_history_the_visibility_allows(string visibility, string[] expected)
    {
        var (alice, bob, roomId) = await RoomBobJoinsLateAsync(visibility);

        var bobs = await bob.SyncAsync(Wide);
        var alices = await alice.SyncAsync(Wide);
        var messages = await bob.Rooms.MessagesAsync(roomId, "dir=f&limit=50&filter=" + Uri.EscapeDataString("{\"types\":[\"m.room.message\"]}"));

        Assert.Equal(expected, MessageBodies(Joined(bobs, roomId)));
        Assert.Equal(["before", "invited", "after"], MessageBodies(Joined(alices, roomId)));
        Assert.Equal(expected, messages.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("content").GetProperty("body").GetString()!).ToList());
        var own = Events(Joined(bobs, roomId)).Where(e => e.Type == "m.room.member" && e.Body!.StartsWith(bob.UserId)).Select(e => e.Body).ToList();
        // His own join is always his to see; his invite only where invited members see history.
        Assert.Equal(visibility == "joined" ? [$"{bob.UserId} join"] : [$"{bob.UserId} invite", $"{bob.UserId} join"], own);
    }

    [Theory]
    [InlineData("shared", new[] { "before", "invited", "after" })]
    [InlineData("invited", new[] { "invited", "after" })]
    [InlineData("joined", new[] { "after" })]
    public async Task A_room_joined_since_the_last_sync_follows_the_same_rule(string visibility, string[] expected)
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var start = await bob.SyncAsync(Wide);
        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "public_chat",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = visibility } } },
        });
        await alice.Rooms.SendTextAsync(roomId, "before");
        await alice.Rooms.InviteAsync(roomId, bob.UserId);
        await alice.Rooms.SendTextAsync(roomId, "invited");
        await bob.Rooms.JoinAsync(roomId);
        await alice.Rooms.SendTextAsync(roomId, "after");

        var incremental = await bob.SyncSinceAsync(NextBatch(start), Wide);

        Assert.Equal(expected, MessageBodies(Joined(incremental, roomId)));
    }

    [Fact]
    public async Task A_visibility_change_is_seen_when_the_visibility_before_or_after_it_allows()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "public_chat",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = "joined" } } },
        });
        await alice.Rooms.SendTextAsync(roomId, "hidden");
        await alice.Rooms.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "shared" });
        await alice.Rooms.SendTextAsync(roomId, "shared now");
        await alice.Rooms.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "joined" });
        await alice.Rooms.SendTextAsync(roomId, "hidden again");
        await bob.Rooms.JoinAsync(roomId);

        var room = Joined(await bob.SyncAsync(Wide), roomId);

        var visibilityEvents = Events(room).Where(e => e.Type is "m.room.history_visibility" or "m.room.message").ToList();
        // The first "joined" is seen through the default (shared) before it, joined→shared through "shared" after it,
        // shared→joined through "shared" before it: bob joined after all three. The messages under "joined" stay hidden.
        Assert.Equal([("m.room.history_visibility", "joined"), ("m.room.history_visibility", "shared"), ("m.room.message", "shared now"), ("m.room.history_visibility", "joined")],
            visibilityEvents.Select(e => (e.Type, e.Body)).ToList());
    }

    [Fact]
    public async Task A_user_who_left_sees_the_joined_history_up_to_their_leave()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "public_chat",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = "joined" } } },
        });
        await alice.Rooms.SendTextAsync(roomId, "before");
        await bob.Rooms.JoinAsync(roomId);
        await alice.Rooms.SendTextAsync(roomId, "during");
        await bob.Rooms.LeaveAsync(roomId);
        await alice.Rooms.SendTextAsync(roomId, "after");

        var sync = await bob.SyncAsync(Wide);

        var left = sync.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        Assert.Equal(["during"], MessageBodies(left));
        Assert.Equal(("m.room.member", $"{bob.UserId} leave"), Events(left)[^1]);
    }
}

public sealed class SqliteHistoryVisibilitySyncTests : HistoryVisibilitySyncTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresHistoryVisibilitySyncTests : HistoryVisibilitySyncTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
