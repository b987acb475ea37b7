using System.Text;
using System.Text.Json;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Grains.ToDevice;
using HomeServer.Storage;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.ToDevice;

/// <summary>
/// The to-device grain stores a send and wakes its recipients' /sync; the sync grain delivers each device its own
/// messages, at most 100 per response, and deletes them once a later since token acknowledges them.
/// </summary>
public sealed class ToDeviceGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly string Bob = Server.UserId("bob");

    private sealed record Delivered(string NextBatch, List<(string Type, string Sender, string Content)> Events, bool IsEmpty);

    /// <summary>Alice with PHONE and LAPTOP, Bob with TABLET.</summary>
    private static async Task<Started> StartAsync(StoreBackend backend)
    {
        var store = await TestStore.OpenAsync(backend);
        var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        foreach (var (user, device) in new[] { (Alice, "PHONE"), (Alice, "LAPTOP"), (Bob, "TABLET") })
        {
            if (await store.Store.Accounts.GetAccountAsync(user, CancellationToken.None) is null)
                await store.Store.Accounts.CreateAccountAsync(new NewAccount(user, "hash", 1), CancellationToken.None);
            await store.Store.Devices.IssueAccessTokenAsync(new NewAccessToken(user, device, $"token-{device}", 1), CancellationToken.None);
        }
        return new Started(store, cluster);
    }

    /// <summary>The store and the cluster on it, disposed in that order's reverse.</summary>
    private sealed class Started(TestStore store, GrainTestCluster cluster) : IAsyncDisposable
    {
        public void Deconstruct(out TestStore testStore, out GrainTestCluster testCluster) => (testStore, testCluster) = (store, cluster);

        public async ValueTask DisposeAsync()
        {
            await cluster.DisposeAsync();
            await store.DisposeAsync();
        }
    }

    /// <summary>What the store still holds for one of Alice's devices.</summary>
    private static Task<IReadOnlyList<ToDeviceMessage>> QueuedAsync(TestStore store, string device) =>
        store.Store.ToDevice.GetMessagesAsync(Alice, device, 0, long.MaxValue, 1000, CancellationToken.None);

    private static ToDeviceMessageRequest To(string user, string? device, string content = "{\"n\":1}") =>
        new(user, device, Encoding.UTF8.GetBytes(content));

    private static Task SendAsync(GrainTestCluster cluster, string txn, params ToDeviceMessageRequest[] messages) =>
        cluster.Grains.GetGrain<IToDeviceGrain>(Bob).SendAsync(new ToDeviceSend("TABLET", txn, "m.test", messages));

    private static async Task<Delivered> SyncAsync(GrainTestCluster cluster, string device, string? since, TimeSpan? timeout = null)
    {
        var response = await cluster.Grains.GetGrain<ISyncGrain>(Alice)
            .SyncAsync(new SyncRequest(device, since, null, false, timeout ?? TimeSpan.Zero), CancellationToken.None);
        using var json = JsonDocument.Parse(response.Body.ToArray());
        var events = json.RootElement.GetProperty("to_device").GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("sender").GetString()!, e.GetProperty("content").GetRawText()))
            .ToList();
        return new Delivered(response.NextBatch, events, response.IsEmpty);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_send_wakes_the_parked_sync_of_the_addressed_device_which_alone_gets_it(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        var phone = await SyncAsync(cluster, "PHONE", null);
        var laptop = await SyncAsync(cluster, "LAPTOP", null);
        Assert.Empty(phone.Events);

        var parked = SyncAsync(cluster, "PHONE", phone.NextBatch, TimeSpan.FromSeconds(20));
        await Task.Delay(300);
        Assert.False(parked.IsCompleted);
        await SendAsync(cluster, "t1", To(Alice, "PHONE", "{\"secret\":\"🔑\"}"));

        var woken = await parked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([("m.test", Bob, "{\"secret\":\"🔑\"}")], woken.Events);
        Assert.False(woken.IsEmpty);
        var other = await SyncAsync(cluster, "LAPTOP", laptop.NextBatch);
        Assert.Empty(other.Events);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task At_most_100_per_response_redelivered_until_acknowledged_then_deleted(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        var start = await SyncAsync(cluster, "PHONE", null);
        for (var i = 0; i < 130; i++) await SendAsync(cluster, $"t{i}", To(Alice, "PHONE", $"{{\"i\":{i}}}"));

        var first = await SyncAsync(cluster, "PHONE", start.NextBatch);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"{{\"i\":{i}}}"), first.Events.Select(e => e.Content));
        var retried = await SyncAsync(cluster, "PHONE", start.NextBatch);
        Assert.Equal(first.Events, retried.Events);

        var second = await SyncAsync(cluster, "PHONE", first.NextBatch);
        Assert.Equal(Enumerable.Range(100, 30).Select(i => $"{{\"i\":{i}}}"), second.Events.Select(e => e.Content));
        // Syncing from the first response's token acknowledged its 100 messages.
        Assert.Equal(30, (await QueuedAsync(store, "PHONE")).Count);

        var third = await SyncAsync(cluster, "PHONE", second.NextBatch);
        Assert.Empty(third.Events);
        Assert.Empty(await QueuedAsync(store, "PHONE"));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Messages_wait_in_the_store_across_a_sync_grain_move(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        var phone = await SyncAsync(cluster, "PHONE", null);
        await SendAsync(cluster, "t1", To(Alice, null, "{\"to\":\"all\"}"));
        await cluster.DeactivateAsync(GrainId.Create("sync", Alice));

        var delivered = await SyncAsync(cluster, "PHONE", phone.NextBatch);
        Assert.Equal(["{\"to\":\"all\"}"], delivered.Events.Select(e => e.Content));
        // A device that never synced gets its messages on its initial sync.
        Assert.Equal(["{\"to\":\"all\"}"], (await SyncAsync(cluster, "LAPTOP", null)).Events.Select(e => e.Content));
        // A token from before to-device existed (no t part) reads what is still queued from the start.
        var legacy = SyncToken.TryParse(phone.NextBatch)! with { ToDevice = 0 };
        Assert.Equal(["{\"to\":\"all\"}"], (await SyncAsync(cluster, "PHONE", legacy.ToString())).Events.Select(e => e.Content));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_retried_transaction_stores_nothing_more_and_other_servers_and_unknown_devices_are_dropped(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        await SendAsync(cluster, "t1", To(Alice, "PHONE"), To("@remote:elsewhere", "X"), To(Alice, "GONE"), To(Server.UserId("nobody"), null));
        await SendAsync(cluster, "t1", To(Alice, "PHONE"));

        Assert.Single((await SyncAsync(cluster, "PHONE", null)).Events);
        Assert.Empty((await SyncAsync(cluster, "LAPTOP", null)).Events);
        Assert.Equal(1, await store.Store.ToDevice.GetMaxStreamPositionAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Bad_sends_are_refused_and_store_nothing(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        var big = "{\"k\":\"" + new string('x', ToDeviceLimits.MaxContentBytes) + "\"}";

        Assert.Equal("M_BAD_JSON", (await Assert.ThrowsAsync<MatrixRequestException>(() => SendAsync(cluster, "t1", To(Alice, "PHONE"), To(Alice, "LAPTOP", "[1]")))).ErrCode);
        Assert.Equal("M_TOO_LARGE", (await Assert.ThrowsAsync<MatrixRequestException>(() => SendAsync(cluster, "t1", To(Alice, "PHONE"), To(Alice, "LAPTOP", big)))).ErrCode);
        Assert.Equal("M_INVALID_PARAM", (await Assert.ThrowsAsync<MatrixRequestException>(() => SendAsync(cluster, "t1", To("alice", "PHONE")))).ErrCode);
        Assert.Equal("M_INVALID_PARAM", (await Assert.ThrowsAsync<MatrixRequestException>(() => SendAsync(cluster, "", To(Alice, "PHONE")))).ErrCode);

        Assert.Equal(0, await store.Store.ToDevice.GetMaxStreamPositionAsync(CancellationToken.None));
        Assert.Empty((await SyncAsync(cluster, "PHONE", null)).Events);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Deleting_a_device_deletes_its_queue_only(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        await SendAsync(cluster, "t1", To(Alice, null));

        await cluster.Grains.GetGrain<HomeServer.Grains.Accounts.IUserGrain>(Alice).DeleteDevicesAsync(["PHONE"]);

        Assert.Empty(await QueuedAsync(store, "PHONE"));
        Assert.Single(await QueuedAsync(store, "LAPTOP"));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Logging_out_everywhere_and_deactivating_delete_every_queue_of_the_user(StoreBackend backend)
    {
        await using var started = await StartAsync(backend);
        var (store, cluster) = started;
        var user = cluster.Grains.GetGrain<HomeServer.Grains.Accounts.IUserGrain>(Alice);
        await SendAsync(cluster, "t1", To(Alice, null), To(Bob, null));
        await user.DeleteAllDevicesAsync();
        Assert.Empty(await QueuedAsync(store, "PHONE"));
        Assert.Empty(await QueuedAsync(store, "LAPTOP"));

        await store.Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "token-again", 2), CancellationToken.None);
        await SendAsync(cluster, "t2", To(Alice, null));
        await user.DeactivateAsync(erase: false);
        Assert.Empty(await QueuedAsync(store, "PHONE"));
        // Other users' queues stay.
        Assert.Single(await store.Store.ToDevice.GetMessagesAsync(Bob, "TABLET", 0, long.MaxValue, 10, CancellationToken.None));
    }
}
