using System.Diagnostics;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.Sync;

/// <summary>
/// Orleans deactivates a grain only after its running requests finished, so a parked long-poll would hold up a move or a
/// drain for its whole timeout; it is answered as soon as the deactivation starts instead.
/// </summary>
public sealed class ParkedSyncReleaseTests
{
    private static readonly LocalServer Server = new("test");

    [Fact]
    public async Task A_parked_sync_is_answered_at_once_with_an_empty_response_when_its_grain_deactivates()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var userId = Server.UserId("parked");
        var grain = cluster.Grains.GetGrain<ISyncGrain>(userId);
        var initial = await grain.SyncAsync(new SyncRequest("DEVICE", null, null, false, TimeSpan.Zero), CancellationToken.None);

        var parked = grain.SyncAsync(new SyncRequest("DEVICE", initial.NextBatch, null, false, TimeSpan.FromSeconds(25)), CancellationToken.None);
        await Task.Delay(500);
        Assert.False(parked.IsCompleted);
        var clock = Stopwatch.StartNew();
        var deactivation = cluster.DeactivateAsync(GrainId.Create("sync", userId));
        var answer = await parked.WaitAsync(TimeSpan.FromSeconds(20));
        await deactivation;

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"answered after {clock.Elapsed}");
        Assert.True(answer.IsEmpty);
        Assert.Equal(initial.NextBatch, answer.NextBatch);
        Assert.False(cluster.IsActive(GrainId.Create("sync", userId)));
    }
}
