using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using static HomeServer.Server.Tests.Presence.PresenceStatusTests;

namespace HomeServer.Server.Tests.Presence;

/// <summary>With <c>Presence:Enabled=false</c> the endpoints still answer, but /sync neither marks users online nor sends presence.</summary>
public sealed class PresenceDisabledTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync(["--Presence:Enabled=false"]);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Endpoints_answer_and_sync_carries_no_presence()
    {
        var alice = await SyncUser.RegisterAsync(_server, "alice");
        var bob = await SyncUser.RegisterAsync(_server, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);

        var initial = await bob.SyncAsync();
        await SetPresenceAsync(alice, new { presence = "unavailable", status_msg = "quiet" });
        var next = await bob.SyncSinceAsync(initial.GetProperty("next_batch").GetString()!, "timeout=1000");

        Assert.Empty(initial.GetProperty("presence").GetProperty("events").EnumerateArray());
        Assert.Empty(next.GetProperty("presence").GetProperty("events").EnumerateArray());
        Assert.Equal("offline", (await GetPresenceAsync(bob, bob.UserId)).GetProperty("presence").GetString());
        var seen = await GetPresenceAsync(bob, alice.UserId);
        Assert.Equal(("unavailable", "quiet"), (seen.GetProperty("presence").GetString(), seen.GetProperty("status_msg").GetString()));
    }
}
