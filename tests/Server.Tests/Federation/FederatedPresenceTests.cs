using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Presence;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Presence across servers (<c>m.presence</c> EDUs): a presence set on one server reaches the /sync of the other
/// server's users who share a room with the user, both ways, and not users who share none.
/// </summary>
public abstract class FederatedPresenceTests<TPair>(TPair pair) where TPair : FederationPair
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Presence_reaches_users_of_the_other_server_who_share_a_room_and_no_one_else()
    {
        var alice = await UserAsync(pair.A, "alice");
        var dave = await UserAsync(pair.A, "dave");
        var bob = await UserAsync(pair.B, "bob");
        var carol = await UserAsync(pair.B, "carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(pair.NameOfA)}", new { });
        var carolSince = await NextBatchAsync(carol);
        var daveSince = await NextBatchAsync(dave);

        var status = "from A " + Guid.NewGuid().ToString("N")[..6];
        await SetPresenceAsync(alice, "unavailable", status);
        var seenByBob = await WaitForPresenceAsync(bob, alice.UserId, content => content.TryGetProperty("status_msg", out var s) && s.GetString() == status);
        Assert.Equal("unavailable", seenByBob.GetProperty("presence").GetString());
        Assert.True(seenByBob.GetProperty("last_active_ago").GetInt64() >= 0);
        // B's server answers GET /presence for alice from what A told it.
        var read = await bob.GetAsync(PresenceStatusTests.StatusPath(alice.UserId));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(status, (await read.ReadJsonAsync()).GetProperty("status_msg").GetString());

        var back = "from B " + Guid.NewGuid().ToString("N")[..6];
        await SetPresenceAsync(bob, "online", back);
        await WaitForPresenceAsync(alice, bob.UserId, content => content.TryGetProperty("status_msg", out var s) && s.GetString() == back);

        // Neither carol (B) nor dave (A) shares a room with the other server's user.
        Assert.Empty(PresenceOf(await carol.SyncSinceAsync(carolSince, "timeout=0"), alice.UserId));
        Assert.Empty(PresenceOf(await dave.SyncSinceAsync(daveSince, "timeout=0"), bob.UserId));
        var hidden = await carol.GetAsync(PresenceStatusTests.StatusPath(alice.UserId));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
    }

    private static async Task SetPresenceAsync(SyncUser user, string presence, string status)
    {
        var response = await user.SendAsync(HttpMethod.Put, PresenceStatusTests.StatusPath(user.UserId),
            JsonNode.Parse(JsonSerializer.Serialize(new { presence, status_msg = status })));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Syncs on until the presence of <paramref name="userId"/> matching <paramref name="wanted"/> arrives; its content.</summary>
    private static async Task<JsonElement> WaitForPresenceAsync(SyncUser viewer, string userId, Func<JsonElement, bool> wanted)
    {
        var since = await NextBatchAsync(viewer);
        var deadline = DateTime.UtcNow + Patience;
        // The change may have come before the token: an initial sync shows the latest presence of every peer.
        foreach (var content in PresenceOf(await viewer.SyncAsync("timeout=0"), userId))
            if (wanted(content)) return content;
        while (true)
        {
            var sync = await viewer.SyncSinceAsync(since, "timeout=1000");
            foreach (var content in PresenceOf(sync, userId))
                if (wanted(content)) return content;
            since = sync.GetProperty("next_batch").GetString()!;
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for the presence of {userId} in the /sync of {viewer.UserId}.");
        }
    }

    private static IEnumerable<JsonElement> PresenceOf(JsonElement sync, string userId) =>
        sync.TryGetProperty("presence", out var presence) && presence.TryGetProperty("events", out var events)
            ? events.EnumerateArray().Where(e => e.GetProperty("sender").GetString() == userId).Select(e => e.GetProperty("content")).ToList()
            : [];

    private static async Task<string> NextBatchAsync(SyncUser user) => (await user.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }
}

public sealed class SqliteFederatedPresenceTests(SqliteFederationPair pair)
    : FederatedPresenceTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedPresenceTests(PostgresFederationPair pair)
    : FederatedPresenceTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
