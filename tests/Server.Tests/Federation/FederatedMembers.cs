using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>Users of the servers of a test network, seen through the client API only.</summary>
public static class FederatedMembers
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static async Task<(RoomsClient Rooms, SyncUser Sync)> UserAsync(FederationPair network, RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        var http = network.ClientFor(server);
        return (new RoomsClient(http, user), new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken));
    }

    public static async Task<List<string>> JoinedMembersAsync(RoomsClient member, string roomId) =>
        (await member.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/joined_members"))
        .GetProperty("joined").EnumerateObject().Select(p => p.Name).ToList();

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }

    public static async Task<string> SinceAsync(SyncUser user) => (await user.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    public static IEnumerable<JsonElement> Events(JsonElement room, string section) =>
        room.TryGetProperty(section, out var part) && part.TryGetProperty("events", out var events) ? events.EnumerateArray() : [];
}

/// <summary>The messages of one room a user's incremental /sync has shown, in order.</summary>
public sealed class MessageLog(SyncUser user, string roomId, string since)
{
    // Timelines long enough that a burst of messages between two syncs is never cut short (limited).
    private static readonly string Filter = "filter=" + Uri.EscapeDataString("""{"room":{"timeline":{"limit":100}}}""");

    private string _since = since;

    public List<string> Bodies { get; } = [];

    public List<string> EventIds { get; } = [];

    public static async Task<MessageLog> FromNowAsync(SyncUser user, string roomId) => new(user, roomId, await FederatedMembers.SinceAsync(user));

    public async Task WaitForAsync(int count, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? FederatedMembers.Patience);
        while (Bodies.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{user.UserId} saw {Bodies.Count} of {count} messages: {string.Join(", ", Bodies)}");
            await SyncOnceAsync();
        }
    }

    public async Task SyncOnceAsync()
    {
        var body = _since.Length == 0 ? await user.SyncAsync("timeout=0&" + Filter) : await user.SyncSinceAsync(_since, "timeout=1000&" + Filter);
        _since = body.GetProperty("next_batch").GetString()!;
        if (!body.TryGetProperty("rooms", out var rooms) || !rooms.TryGetProperty("join", out var join) || !join.TryGetProperty(roomId, out var room)) return;
        foreach (var e in FederatedMembers.Events(room, "timeline").Where(e => e.GetProperty("type").GetString() == "m.room.message"))
        {
            Bodies.Add(e.GetProperty("content").GetProperty("body").GetString()!);
            EventIds.Add(e.GetProperty("event_id").GetString()!);
        }
    }
}
