using HomeServer.Grains.Accounts;
using HomeServer.Grains.Cluster;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.Cluster;

/// <summary>References from the caching factory are Orleans' own: same grain id and interface, and calls reach the grain.</summary>
public sealed class InterfaceTypeCachingGrainFactoryTests
{
    private static readonly LocalServer Server = new("test");

    [Fact]
    public async Task References_are_those_orleans_makes_and_calls_reach_the_grain()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var orleans = cluster.SiloServices(0).GetRequiredService<IGrainFactory>();
        var cached = new InterfaceTypeCachingGrainFactory(orleans);

        foreach (var key in new[] { $"!a:{Server.Name}", $"!b:{Server.Name}" })
        {
            AssertSame(orleans.GetGrain<IRoomGrain>(key), cached.GetGrain<IRoomGrain>(key));
            AssertSame(orleans.GetGrain<ISyncGrain>(key), cached.GetGrain<ISyncGrain>(key));
            AssertSame(orleans.GetGrain<IUserGrain>(key), cached.GetGrain<IUserGrain>(key));
        }

        var roomId = $"!created:{Server.Name}";
        await cached.GetGrain<IRoomGrain>(roomId).CreateAsync(new CreateRoomRequest(Server.UserId("creator")) { Name = "Created" });
        Assert.Equal("Created", (await orleans.GetGrain<IRoomGrain>(roomId).GetPublicSummaryAsync())?.Name);
        Assert.Throws<ArgumentException>(() => cached.GetGrain<IRoomGrain>(" "));
    }

    private static void AssertSame(IAddressable expected, IAddressable actual)
    {
        var (want, got) = ((GrainReference)expected, (GrainReference)actual);
        Assert.Equal(want.GrainId, got.GrainId);
        Assert.Equal(want.InterfaceType, got.InterfaceType);
        Assert.Equal(expected.GetType(), actual.GetType());
    }
}
