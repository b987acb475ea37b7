using System.Diagnostics;
using HomeServer.Grains.Cluster;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.Cluster;

/// <summary>A silo-keyed grain (the room feed hub) lives on the silo its key names, and nowhere else.</summary>
public sealed class SiloKeyedPlacementTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly SyncNotice Notice = new(SyncNoticeKind.Typing, "!room:test", 1);

    [Fact]
    public async Task Each_silos_hub_is_placed_on_that_silo_whoever_calls_it()
    {
        await using var cluster = await GrainTestCluster.StartAsync(3, store: null, Server);
        for (var silo = 0; silo < 3; silo++)
        {
            var key = SiloKeyedPlacement.KeyOf(cluster.SiloAddress(silo));
            await cluster.Grains.GetGrain<IRoomFeedHubGrain>(key).NotifyAsync(Notice, []);

            var hub = GrainId.Create("room-feed-hub", key);
            for (var other = 0; other < 3; other++) Assert.Equal(other == silo, cluster.IsActiveOn(other, hub));
        }
    }

    [Fact]
    public async Task A_hub_of_a_silo_that_is_not_active_fails_at_once_and_is_placed_nowhere()
    {
        await using var cluster = await GrainTestCluster.StartAsync(2, store: null, Server);
        var gone = SiloAddress.New(cluster.SiloAddress(0).Endpoint, cluster.SiloAddress(0).Generation - 1);
        var key = SiloKeyedPlacement.KeyOf(gone);
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<SiloUnavailableException>(() => cluster.Grains.GetGrain<IRoomFeedHubGrain>(key).NotifyAsync(Notice, []));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.False(cluster.IsActive(GrainId.Create("room-feed-hub", key)));
    }
}
