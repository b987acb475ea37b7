using HomeServer.Grains.Presence;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Delivery;
using HomeServer.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Grains.Tests.Presence;

/// <summary>Who may read a user's presence, what is persisted, and whose running /sync a change wakes.</summary>
public sealed class PresenceGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly string Bob = Server.UserId("bob");
    private static readonly string Dave = Server.UserId("dave");
    private static readonly string RoomId = $"!presence:{Server.Name}";

    private static async Task<(TestStore Store, GrainTestCluster Cluster, ReceivedFeeds Received)> StartAsync(
        StoreBackend backend, bool enabled = true, TimeSpan? idleTimeout = null)
    {
        var store = await TestStore.OpenAsync(backend);
        var received = new ReceivedFeeds();
        var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server, silo =>
        {
            GrainTestCluster.WithStandIn<SyncGrain, ReceivingSyncGrain>()(silo);
            silo.Services.AddSingleton(received);
            silo.Services.Configure<PresenceOptions>(options =>
            {
                options.Enabled = enabled;
                options.IdleTimeout = idleTimeout ?? options.IdleTimeout;
            });
        });
        // Alice and Bob share a room; Dave is in none. Their sync grains are running (as while they long-poll).
        await cluster.Grains.GetGrain<IRoomGrain>(RoomId).CreateAsync(new CreateRoomRequest(Alice) { Preset = "public_chat" });
        await cluster.Grains.GetGrain<IRoomGrain>(RoomId).JoinAsync(Bob, null);
        foreach (var user in new[] { Alice, Bob, Dave })
            await cluster.Grains.GetGrain<ISyncGrain>(user).NotifyAsync(new SyncNotice(SyncNoticeKind.Typing, null, 0));
        return (store, cluster, received);
    }

    private static IReadOnlyList<SyncNotice> PresenceNotices(ReceivedFeeds received, string userId) =>
        received.NoticesOf(userId).Where(n => n.Kind == SyncNoticeKind.Presence).ToList();

    private static async Task<IReadOnlyList<SyncNotice>> WaitForPresenceNoticesAsync(ReceivedFeeds received, string userId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (PresenceNotices(received, userId).Count < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        return PresenceNotices(received, userId);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Presence_is_readable_by_the_user_and_by_those_sharing_a_room_only(StoreBackend backend)
    {
        var (store, cluster, _) = await StartAsync(backend);
        await using var _store = store;
        await using var _cluster = cluster;
        var bob = cluster.Grains.GetGrain<IPresenceGrain>(Bob);
        await bob.SetAsync(PresenceStates.Unavailable, "busy");

        Assert.Equal((PresenceStates.Unavailable, "busy"), ((await bob.GetAsync(Alice)).Presence, (await bob.GetAsync(Alice)).StatusMessage));
        Assert.Equal(PresenceStates.Unavailable, (await bob.GetAsync(Bob)).Presence);
        var refused = await Assert.ThrowsAsync<MatrixRequestException>(() => bob.GetAsync(Dave));
        Assert.Equal("M_FORBIDDEN", refused.ErrCode);
        // Dave has no presence of his own yet: offline and never active.
        Assert.Equal(new PresenceStatus(PresenceStates.Offline, null, 0, false), await cluster.Grains.GetGrain<IPresenceGrain>(Dave).GetAsync(Dave));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_change_is_stored_then_wakes_the_running_syncs_of_the_user_and_its_room_peers(StoreBackend backend)
    {
        var (store, cluster, received) = await StartAsync(backend);
        await using var _store = store;
        await using var _cluster = cluster;
        var bob = cluster.Grains.GetGrain<IPresenceGrain>(Bob);

        await bob.SetAsync(PresenceStates.Online, "here");

        var stored = await store.Store.Presence.GetPresenceAsync(Bob, CancellationToken.None);
        Assert.Equal((PresenceStates.Online, "here"), (stored!.Presence, stored.StatusMessage));
        Assert.Equal([stored.StreamPosition], (await WaitForPresenceNoticesAsync(received, Alice, 1)).Select(n => n.Position));
        Assert.Equal([stored.StreamPosition], (await WaitForPresenceNoticesAsync(received, Bob, 1)).Select(n => n.Position));

        // A sync within the minute changes nothing worth telling; offline leaves the presence alone.
        await bob.SyncingAsync(PresenceStates.Online);
        await bob.SyncingAsync(PresenceStates.Offline);
        await Task.Delay(300);
        Assert.Equal(stored.StreamPosition, await store.Store.Presence.GetMaxStreamPositionAsync(CancellationToken.None));
        Assert.Single(PresenceNotices(received, Alice));
        Assert.Empty(PresenceNotices(received, Dave));

        // A sync that is unavailable is a change, and keeps the status message.
        await bob.SyncingAsync(PresenceStates.Unavailable);
        Assert.Equal(2, (await WaitForPresenceNoticesAsync(received, Alice, 2)).Count);
        Assert.Equal("here", (await bob.GetAsync(Bob)).StatusMessage);
        Assert.Empty(PresenceNotices(received, Dave));
        await Assert.ThrowsAsync<MatrixRequestException>(() => bob.SetAsync("busy", null));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task An_online_user_idle_for_the_timeout_becomes_unavailable_and_syncing_brings_it_back(StoreBackend backend)
    {
        var (store, cluster, received) = await StartAsync(backend, idleTimeout: TimeSpan.FromSeconds(1));
        await using var _store = store;
        await using var _cluster = cluster;
        var bob = cluster.Grains.GetGrain<IPresenceGrain>(Bob);
        await bob.SetAsync(PresenceStates.Online, "typing away");
        var active = (await bob.GetAsync(Bob)).LastActiveTs;

        // Activity within the timeout moves the deadline: still online after more than the timeout in all.
        await Task.Delay(600);
        await bob.SyncingAsync(PresenceStates.Online);
        await Task.Delay(600);
        Assert.Equal(PresenceStates.Online, (await bob.GetAsync(Bob)).Presence);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await bob.GetAsync(Bob)).Presence != PresenceStates.Unavailable && DateTime.UtcNow < deadline) await Task.Delay(50);
        var idle = await bob.GetAsync(Bob);
        Assert.Equal((PresenceStates.Unavailable, "typing away", false), (idle.Presence, idle.StatusMessage, idle.CurrentlyActive));
        Assert.True(idle.LastActiveTs > active, "the last activity is the sync's, not the set's");
        Assert.Equal(PresenceStates.Unavailable, (await store.Store.Presence.GetPresenceAsync(Bob, CancellationToken.None))!.Presence);
        Assert.Equal(2, (await WaitForPresenceNoticesAsync(received, Alice, 2)).Count);

        await bob.SyncingAsync(PresenceStates.Online);
        Assert.Equal(PresenceStates.Online, (await bob.GetAsync(Bob)).Presence);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    public async Task With_presence_disabled_a_set_is_stored_but_nothing_fans_out_and_sync_changes_nothing(StoreBackend backend)
    {
        var (store, cluster, received) = await StartAsync(backend, enabled: false);
        await using var _store = store;
        await using var _cluster = cluster;
        var bob = cluster.Grains.GetGrain<IPresenceGrain>(Bob);
        var alice = cluster.Grains.GetGrain<IPresenceGrain>(Alice);

        await bob.SetAsync(PresenceStates.Unavailable, "away");
        await alice.SyncingAsync(PresenceStates.Online);
        await Task.Delay(300);

        Assert.Equal("away", (await bob.GetAsync(Bob)).StatusMessage);
        Assert.Equal(PresenceStates.Offline, (await alice.GetAsync(Alice)).Presence);
        Assert.Empty(PresenceNotices(received, Alice));
        Assert.Empty(PresenceNotices(received, Bob));
    }
}
