using System.Diagnostics;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

public abstract class SyncLongPollTests : SyncTestBase
{
    [Fact]
    public async Task A_parked_sync_wakes_up_soon_after_a_new_message()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        var initial = await alice.SyncAsync();
        // A first incremental sync, so the grain has caught up and parks without reading the store.
        var caughtUp = await alice.SyncSinceAsync(NextBatch(initial), "timeout=0");

        var clock = Stopwatch.StartNew();
        var parked = alice.SyncSinceAsync(NextBatch(caughtUp), "timeout=20000");
        await Task.Delay(500);
        Assert.False(parked.IsCompleted, "the sync answered before anything happened");
        await Rooms.SendMessageAsync(roomId, alice.UserId, "wake up");
        var sync = await parked;

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        Assert.Equal(["wake up"], Bodies(Joined(sync, roomId)));
    }

    [Fact]
    public async Task A_sync_with_nothing_new_waits_for_the_timeout_and_answers_empty_with_a_token_that_loses_nothing()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        var initial = await alice.SyncAsync();

        var clock = Stopwatch.StartNew();
        var empty = await alice.SyncSinceAsync(NextBatch(initial), "timeout=1200");

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(1100), TimeSpan.FromSeconds(10));
        Assert.Equal(0, RoomCount(empty, "join"));
        Assert.Equal(0, empty.GetProperty("account_data").GetProperty("events").GetArrayLength());
        Assert.Equal(NextBatch(initial), NextBatch(empty));

        await Rooms.SendMessageAsync(roomId, alice.UserId, "after the timeout");
        var sync = await alice.SyncSinceAsync(NextBatch(empty));
        Assert.Equal(["after the timeout"], Bodies(Joined(sync, roomId)));
    }

    [Fact]
    public async Task Events_of_rooms_the_user_is_not_in_do_not_end_a_wait()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var aliceRoom = await Rooms.CreateRoomAsync(alice.UserId);
        var bobRoom = await Rooms.CreateRoomAsync(bob.UserId);
        var initial = await alice.SyncAsync();

        var parked = alice.SyncSinceAsync(NextBatch(initial), "timeout=1500");
        await Task.Delay(200);
        await Rooms.SendMessageAsync(bobRoom, bob.UserId, "not for alice");
        var empty = await parked;

        Assert.Equal(0, RoomCount(empty, "join"));
        await Rooms.SendMessageAsync(aliceRoom, alice.UserId, "for alice");
        var sync = await alice.SyncSinceAsync(NextBatch(empty));
        Assert.Equal(["for alice"], Bodies(Joined(sync, aliceRoom)));
        Assert.False(HasJoined(sync, bobRoom));
    }

    [Fact]
    public async Task Stopping_the_server_answers_a_parked_sync_at_once()
    {
        var alice = await RegisterAsync("alice");
        await Rooms.CreateRoomAsync(alice.UserId);
        var initial = await alice.SyncAsync();
        var caughtUp = await alice.SyncSinceAsync(NextBatch(initial));

        var parked = alice.SyncSinceAsync(NextBatch(caughtUp), "timeout=60000");
        await Task.Delay(300);
        var clock = Stopwatch.StartNew();
        var stopping = Server.App.StopAsync();
        var sync = await parked;
        await stopping;

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(NextBatch(caughtUp), NextBatch(sync));
    }
}

public sealed class SqliteSyncLongPollTests : SyncLongPollTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncLongPollTests : SyncLongPollTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
