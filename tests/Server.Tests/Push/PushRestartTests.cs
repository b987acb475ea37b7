using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Push;

/// <summary>Unread counts and edited rules are the same after the server restarts on the same data.</summary>
public abstract class PushRestartTests : SyncTestBase
{
    private static async Task<(long, long)> UnreadAsync(SyncUser user, string roomId)
    {
        var sync = await user.Rooms.OkAsync(HttpMethod.Get, "/sync?timeout=0");
        var unread = Joined(sync, roomId).GetProperty("unread_notifications");
        return (unread.GetProperty("notification_count").GetInt64(), unread.GetProperty("highlight_count").GetInt64());
    }

    [Fact]
    public async Task Counts_and_rules_survive_a_restart()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var read = await alice.Rooms.SendTextAsync(roomId, "one");
        await alice.Rooms.SendTextAsync(roomId, "two");
        await alice.Rooms.SendAsync(roomId, new Dictionary<string, object>
        {
            ["msgtype"] = "m.text", ["body"] = "three", ["m.mentions"] = new { user_ids = new[] { bob.UserId } },
        });
        await bob.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/receipt/m.read/{Uri.EscapeDataString(read)}", new { });
        await bob.Rooms.OkAsync(HttpMethod.Put, "/pushrules/global/content/lunch", new { pattern = "lunch", actions = new object[] { "notify", new { set_tweak = "highlight" } } });
        Assert.Equal((2L, 1L), await UnreadAsync(bob, roomId));

        await RestartAsync();
        alice = alice.On(Server);
        bob = bob.On(Server);

        Assert.Equal((2L, 1L), await UnreadAsync(bob, roomId));
        await alice.Rooms.SendTextAsync(roomId, "lunch?");
        Assert.Equal((3L, 2L), await UnreadAsync(bob, roomId));
    }
}

public sealed class SqlitePushRestartTests : PushRestartTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresPushRestartTests : PushRestartTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
