using HomeServer.Grains.Cluster;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Grains.Tests.Cluster;

/// <summary>
/// Calls between silos that are marked idempotent are sent again when the silo of their grain dies under them, so callers
/// see no failure; the counter says how often that happened.
/// </summary>
public sealed class IdempotentRetryTests
{
    private static readonly LocalServer Server = new("test");

    [Fact]
    public async Task Idempotent_reads_of_rooms_keep_answering_while_their_silos_are_killed()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(3, store.Store, Server);
        var rooms = Enumerable.Range(0, 12).Select(i => $"!retry{i}:{Server.Name}").ToList();
        foreach (var roomId in rooms)
            await cluster.Grains.GetGrain<IRoomGrain>(roomId).CreateAsync(new CreateRoomRequest(Server.UserId("creator")) { Name = roomId });
        // Read from a silo that stays, as grains call each other (a gateway process has its own filter for lost silos).
        var readingSilo = cluster.SiloServices(1);
        var grains = readingSilo.GetRequiredService<IGrainFactory>();
        using var retried = new CounterTotal(ClusterMetrics.MeterName, "homeserver.cluster.retried_calls");
        using var stop = new CancellationTokenSource();
        var failures = new List<Exception>();

        var readers = rooms.Select(async roomId =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var summary = await grains.GetGrain<IRoomGrain>(roomId).GetPublicSummaryAsync();
                    Assert.Equal(roomId, summary?.Name);
                    reads++;
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    lock (failures) failures.Add(e);
                }
            }
            return reads;
        }).ToList();
        await Task.Delay(500);
        // Placement may leave a silo with none of the rooms, or a kill may find no call in flight: then another silo
        // (never the reading one) is killed, up to three in all.
        for (var kills = 0; kills < 3 && retried.Value == 0; kills++)
        {
            var victim = Enumerable.Range(0, 3).First(index => !ReferenceEquals(cluster.SiloServices(index), readingSilo));
            await cluster.KillAndReplaceSiloAsync(victim);
            await Task.Delay(TimeSpan.FromSeconds(8));
        }
        await stop.CancelAsync();
        var reads = await Task.WhenAll(readers);

        Assert.Empty(failures);
        Assert.All(reads, count => Assert.True(count > 0));
        Assert.True(retried.Value > 0, "no call was sent again, so the kill did not hit a call in flight");
    }
}
