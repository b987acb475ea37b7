using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Typing reaches every member's next or parked /sync, whatever the timing and whichever activation answers.</summary>
public abstract class SyncTypingTests : SyncTestBase
{
    [Fact]
    public async Task Typing_set_before_the_readers_sync_grain_was_active_reaches_its_first_sync_with_a_token_of_another_activation()
    {
        var (alice, bob, roomId) = await TwoMembersAsync();
        var token = NextBatch(await alice.SyncAsync());

        // A restart: the token now comes from another activation, and nothing of alice is active when bob types.
        await RestartAsync();
        alice = alice.On(Server);
        bob = bob.On(Server);
        await SetTypingAsync(bob, roomId, true);
        var sync = await alice.SyncSinceAsync(token, "timeout=0");

        Assert.Equal([bob.UserId], TypingUsers(Joined(sync, roomId)));
        await SetTypingAsync(bob, roomId, false);
        var stopped = await alice.SyncSinceAsync(NextBatch(sync), "timeout=5000");
        Assert.Equal([], TypingUsers(Joined(stopped, roomId)));
    }

    [Fact]
    public async Task A_token_of_another_activation_clears_typing_that_ended_while_no_activation_knew()
    {
        var (alice, bob, roomId) = await TwoMembersAsync();
        var initial = await alice.SyncAsync();
        await SetTypingAsync(bob, roomId, true);
        var typing = await alice.SyncSinceAsync(NextBatch(initial), "timeout=5000");
        Assert.Equal([bob.UserId], TypingUsers(Joined(typing, roomId)));

        // Typing is kept in memory only: after the restart nobody types, and the client must hear so.
        await RestartAsync();
        alice = alice.On(Server);
        var sync = await alice.SyncSinceAsync(NextBatch(typing), "timeout=5000");

        Assert.Equal([], TypingUsers(Joined(sync, roomId)));
        var next = await alice.SyncSinceAsync(NextBatch(sync), "timeout=300");
        Assert.False(HasJoined(next, roomId), "the typing lists are sent once per activation, not again");
    }

    [Fact]
    public async Task Typing_right_after_a_burst_of_sends_reaches_a_parked_long_poll()
    {
        var (alice, bob, roomId) = await TwoMembersAsync();
        var token = NextBatch(await alice.SyncSinceAsync(NextBatch(await alice.SyncAsync()), "timeout=0"));

        for (var round = 0; round < 5; round++)
        {
            var parked = alice.SyncSinceAsync(token, "timeout=20000");
            await Task.Delay(100);
            await Task.WhenAll(Enumerable.Range(1, 5).Select(n => bob.Rooms.SendTextAsync(roomId, $"burst {round}.{n}")));
            await SetTypingAsync(bob, roomId, typing: round % 2 == 0);

            var expected = round % 2 == 0 ? new List<string> { bob.UserId } : [];
            (token, var bodies) = await SyncUntilTypingAsync(alice, await parked, roomId, expected);
            Assert.Equal(5, bodies.Count(body => body.StartsWith($"burst {round}.", StringComparison.Ordinal)));
        }
    }

    private async Task<(SyncUser Alice, SyncUser Bob, string RoomId)> TwoMembersAsync()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        return (alice, bob, roomId);
    }

    private static Task SetTypingAsync(SyncUser user, string roomId, bool typing) =>
        user.Rooms.OkAsync(HttpMethod.Put, $"/rooms/{Uri.EscapeDataString(roomId)}/typing/{Uri.EscapeDataString(user.UserId)}",
            typing ? new { typing = true, timeout = 30000 } : new { typing = false });

    /// <summary>Follows the sync loop from <paramref name="sync"/> until the room's typing is <paramref name="expected"/>, within 5 s.</summary>
    private static async Task<(string Token, List<string> Bodies)> SyncUntilTypingAsync(
        SyncUser user, JsonElement sync, string roomId, List<string> expected)
    {
        var bodies = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            if (HasJoined(sync, roomId))
            {
                var room = Joined(sync, roomId);
                if (room.TryGetProperty("timeline", out _)) bodies.AddRange(Bodies(room));
                if (TypingOrNull(room) is { } typing && typing.SequenceEqual(expected)) return (NextBatch(sync), bodies);
            }
            Assert.True(DateTime.UtcNow < deadline, $"the typing list [{string.Join(", ", expected)}] did not arrive within 5 s");
            sync = await user.SyncSinceAsync(NextBatch(sync), "timeout=5000");
        }
    }

    private static List<string>? TypingOrNull(JsonElement room) =>
        room.GetProperty("ephemeral").GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.typing")
            .Select(e => e.GetProperty("content").GetProperty("user_ids").EnumerateArray().Select(u => u.GetString()!).ToList())
            .LastOrDefault();

    private static List<string> TypingUsers(JsonElement room) =>
        TypingOrNull(room) ?? throw new Xunit.Sdk.XunitException("the room has no m.typing");
}

public sealed class SqliteSyncTypingTests : SyncTypingTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncTypingTests : SyncTypingTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
