using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Federation;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;
using static HomeServer.Grains.Tests.Rooms.Forks.ForkTestEvents;

namespace HomeServer.Grains.Tests.Rooms.Forks;

/// <summary>A forked room's extremities survive a reload of the room (a new activation) and a merge clears them.</summary>
public sealed class ForkDurabilityTests
{
    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task The_extremities_and_their_states_are_reloaded_as_the_events_left_them(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        await store.Store.Rooms.CreateRoomAsync(new NewRoom(RoomId, "10", Alice, Clock()), CancellationToken.None);
        var writer = await LoadedAsync(store.Store);
        var creation = PublicRoomPlan();
        await writer.SubmitAsync(builder =>
        {
            foreach (var spec in creation.Events) builder.Add(spec);
            return null;
        });
        var forkPoint = writer.Current!;
        await writer.SubmitAsync(builder => builder.Add(Message(Alice, "local")).EventId.Value);
        await writer.SubmitAsync(builder =>
        {
            var (remote, plan) = RemoteFork(builder, forkPoint);
            return builder.AddReceivedOnFork(remote, plan).EventId.Value;
        });
        var forked = writer.Current!;

        var reloaded = (await LoadedAsync(store.Store)).Current!;

        Assert.True(reloaded.IsForked);
        Assert.Equal(forked.Extremities.Select(e => (e.EventId, e.Depth, e.ContentHash)).OrderBy(e => e.EventId.Value),
            reloaded.Extremities.Select(e => (e.EventId, e.Depth, e.ContentHash)).OrderBy(e => e.EventId.Value));
        foreach (var extremity in forked.Extremities)
            Assert.Equal(extremity.StateAfter.OrderBy(e => e.Key.ToString()), reloaded.Extremities.Single(e => e.EventId == extremity.EventId).StateAfter.OrderBy(e => e.Key.ToString()));
        Assert.Equal(forked.Depth, reloaded.Depth);

        var again = await LoadedAsync(store.Store);
        await again.SubmitAsync(builder => builder.Add(Message(Alice, "merge")).EventId.Value);
        Assert.False((await LoadedAsync(store.Store)).Current!.IsForked);
        Assert.Empty(await store.Store.Forks.GetForwardExtremitiesAsync(RoomId, CancellationToken.None));
    }

    private static async Task<RoomWriter> LoadedAsync(IHomeServerStore store)
    {
        var writer = new RoomWriter(store, RoomId, Clock, TestSigningKeys.For("test"), _ => Task.CompletedTask, NullLogger.Instance);
        await writer.LoadAsync(CancellationToken.None);
        return writer;
    }
}
