using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Delivery;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Shared-event responses through real rooms and HTTP: what they hold, how they mix with the store path, whom they wake.</summary>
[Collection(SyncMeterCollection.Name)]
public abstract class SharedDeliveryTests : SyncTestBase
{
    private RoomsClient Client(TestUser user) => new(Server.Client, user);

    private async Task<JsonElement> SyncAsync(TestUser user, string? since, string query = "timeout=10000")
    {
        var path = "/_matrix/client/v3/sync" + (since is null ? "" : $"?since={Uri.EscapeDataString(since)}&{query}");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", user.AccessToken);
        using var response = await Server.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"sync: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    /// <summary>Long-polls from <paramref name="since"/> until <paramref name="count"/> timeline events of the room arrived.</summary>
    private async Task<(List<JsonElement> Events, string NextBatch)> ReceiveAsync(TestUser user, string roomId, string since, int count)
    {
        var events = new List<JsonElement>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (events.Count < count)
        {
            deadline.Token.ThrowIfCancellationRequested();
            var sync = await SyncAsync(user, since);
            since = NextBatch(sync);
            if (!HasJoined(sync, roomId)) continue;
            Assert.False(Timeline(Joined(sync, roomId)).GetProperty("limited").GetBoolean());
            events.AddRange(Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray());
        }
        return (events, since);
    }

    /// <summary>An event as a client stores it: everything but its age.</summary>
    private static string WithoutAge(JsonElement clientEvent)
    {
        var node = JsonNode.Parse(clientEvent.GetRawText())!.AsObject();
        node["unsigned"]!.AsObject().Remove("age");
        return node.ToJsonString();
    }

    private static string Body(JsonElement clientEvent) => clientEvent.GetProperty("content").GetProperty("body").GetString()!;

    [Fact]
    public async Task Shared_responses_hold_what_the_store_path_writes_and_their_token_skips_what_they_delivered_after_a_restart()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        var since = NextBatch(await SyncAsync(alice, null));

        using var meter = new SyncMeterRecorder();
        var receiving = ReceiveAsync(alice, roomId, since, 3);
        await Client(bob).SendTextAsync(roomId, "one");
        await Client(alice).SendAsync(roomId, new { msgtype = "m.text", body = "two" }, txnId: "alice-txn-2");
        await Client(bob).SendTextAsync(roomId, "three");
        var (shared, afterShared) = await receiving;

        Assert.Equal(["one", "two", "three"], shared.Select(Body));
        Assert.Equal("alice-txn-2", shared[1].GetProperty("unsigned").GetProperty("transaction_id").GetString());
        Assert.True(meter.Total(SyncMetrics.SharedResponses) > 0);
        Assert.Equal(0, meter.Total(SyncMetrics.StoreResponses));
        // The token lists the delivered events (the fifth part; a presence position may follow as the last).
        Assert.Matches(@"^s\d+_\d+_\d+_\d+\.\d+_[0-9.]+(_p\d+)?$", afterShared);

        await RestartAsync();
        var fromStore = Timeline(Joined(await SyncAsync(alice, since, "timeout=0"), roomId));
        Assert.Equal(shared.Select(WithoutAge), fromStore.GetProperty("events").EnumerateArray().Select(WithoutAge));

        await Client(bob).SendTextAsync(roomId, "four");
        var (next, _) = await ReceiveAsync(alice, roomId, afterShared, 1);
        Assert.Equal(["four"], next.Select(Body));
    }

    [Fact]
    public async Task Shared_and_store_responses_interleave_without_losing_or_repeating_an_event()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var carol = await TestUsers.CreateAsync(Server, "carol");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        var since = NextBatch(await SyncAsync(alice, null));

        using var meter = new SyncMeterRecorder();
        var receiving = ReceiveAsync(alice, roomId, since, 13);
        for (var i = 0; i < 4; i++) await Client(bob).SendTextAsync(roomId, $"before {i}");
        await Client(carol).JoinAsync(roomId);
        for (var i = 0; i < 4; i++) await Client(carol).SendTextAsync(roomId, $"after join {i}");
        await Client(alice).OkAsync(HttpMethod.Put, $"/user/{Uri.EscapeDataString(alice.UserId)}/account_data/org.example", new { n = 1 });
        for (var i = 0; i < 4; i++) await Client(bob).SendTextAsync(roomId, $"after account data {i}");
        var (events, _) = await receiving;

        var messages = events.Where(e => e.GetProperty("type").GetString() == "m.room.message").Select(Body).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"before {i}")
            .Concat(Enumerable.Range(0, 4).Select(i => $"after join {i}"))
            .Concat(Enumerable.Range(0, 4).Select(i => $"after account data {i}")), messages);
        Assert.Single(events, e => e.GetProperty("type").GetString() == "m.room.member");
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("event_id").GetString()).Distinct().Count());
        Assert.True(meter.Total(SyncMetrics.SharedResponses) > 0);
        Assert.True(meter.Total(SyncMetrics.StoreResponses) > 0);
    }
}

public sealed class SqliteSharedDeliveryTests : SharedDeliveryTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSharedDeliveryTests : SharedDeliveryTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
