using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Placement;
using HomeServer.Runtime.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Runtime.Tests;

/// <summary>One activation per silo, keyed by the silo's address; it answers placement questions through its locator.</summary>
[GrainType("silo-probe")]
[SiloLocalPlacement]
public interface ISiloProbeGrain : IGrain
{
    Task<string> WhereAsync();

    Task<string?> CounterOwnerAsync(string key);

    Task<bool> IsCounterActiveHereAsync(string key);

    /// <summary>The counter's value when it is active on this silo, null when it is not (and it stays inactive).</summary>
    Task<int?> CounterValueIfActiveHereAsync(string key);
}

public sealed class SiloProbeGrain : Grain, ISiloProbeGrain
{
    public Task<string> WhereAsync() => Task.FromResult(GrainLocator.Self.ToString());

    public Task<string?> CounterOwnerAsync(string key) => Task.FromResult(GrainLocator.OwnerOf<ICounterGrain>(key)?.ToString());

    public Task<bool> IsCounterActiveHereAsync(string key) => Task.FromResult(GrainLocator.IsActiveHere<ICounterGrain>(key));

    public async Task<int?> CounterValueIfActiveHereAsync(string key) =>
        GrainLocator.GetIfActiveHere<ICounterGrain>(key) is { } counter ? await counter.GetAsync() : null;
}

public sealed class SiloLocalPlacementTests
{
    private static Task<TestCluster> StartAsync(int silos, SharedStore store) =>
        TestCluster.StartAsync(silos,
            grains => grains.AddGrain<ICounterGrain, CounterGrain>().AddGrain<ISiloProbeGrain, SiloProbeGrain>(),
            services: services => services.AddSingleton(store));

    private static GrainId ProbeId(Silo silo) => new("silo-probe", silo.Address.ToString());

    [Fact]
    public async Task A_silo_local_grain_lives_on_the_silo_its_key_names_whoever_calls_it()
    {
        await using var cluster = await StartAsync(3, new SharedStore());
        var callers = cluster.Silos.Cast<IGrainFactory>().Append(cluster.Client).ToArray();
        foreach (var silo in cluster.Silos)
        {
            foreach (var caller in callers)
                Assert.Equal(silo.Address.ToString(), await caller.GetGrain<ISiloProbeGrain>(silo.Address.ToString()).WhereAsync());
        }
        foreach (var silo in cluster.Silos)
            Assert.Equal([silo], cluster.Silos.Where(s => s.IsHosting(ProbeId(silo))));
    }

    [Fact]
    public async Task A_call_for_a_silo_that_is_not_active_fails_at_once_and_activates_nothing_elsewhere()
    {
        await using var cluster = await StartAsync(3, new SharedStore());
        var killed = cluster.Silos[2];
        await cluster.KillSiloAsync(killed);
        await cluster.WaitForLivenessToStabilizeAsync();
        var callers = cluster.Silos.Cast<IGrainFactory>().Append(cluster.Client).ToArray();
        var unknown = new SiloAddress("127.0.0.1", 1, 1);
        foreach (var key in new[] { killed.Address.ToString(), unknown.ToString() })
        {
            foreach (var caller in callers)
                await Assert.ThrowsAsync<SiloUnavailableException>(() => caller.GetGrain<ISiloProbeGrain>(key).WhereAsync());
        }
        Assert.All(cluster.Silos, silo => Assert.Equal(0, silo.ActivationCount));
    }

    [Fact]
    public async Task The_locator_names_each_grains_owner_as_rendezvous_placement_does()
    {
        await using var cluster = await StartAsync(3, new SharedStore());
        var probe = cluster.Client.GetGrain<ISiloProbeGrain>(cluster.Silos[0].Address.ToString());
        var active = cluster.Silos[0].Membership.Current.ActiveSilos;
        for (var i = 0; i < 30; i++)
        {
            var key = $"owned{i}";
            Assert.Equal(RendezvousPlacement.SelectOwner(new GrainId("counter", key), active)!.ToString(), await probe.CounterOwnerAsync(key));
        }
    }

    [Fact]
    public async Task Local_delivery_reaches_an_active_grain_on_its_silo_and_never_wakes_an_inactive_one()
    {
        var store = new SharedStore();
        await using var cluster = await StartAsync(3, store);
        var probes = cluster.Silos.ToDictionary(s => s.Address.ToString(), s => cluster.Client.GetGrain<ISiloProbeGrain>(s.Address.ToString()));
        const string key = "sleeper";
        var owner = (await probes.Values.First().CounterOwnerAsync(key))!;

        foreach (var probe in probes.Values)
        {
            Assert.False(await probe.IsCounterActiveHereAsync(key));
            Assert.Null(await probe.CounterValueIfActiveHereAsync(key));
        }
        Assert.False(store.Activations.ContainsKey(key));

        await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();
        await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();

        Assert.True(await probes[owner].IsCounterActiveHereAsync(key));
        Assert.Equal(2, await probes[owner].CounterValueIfActiveHereAsync(key));
        foreach (var (silo, probe) in probes.Where(p => p.Key != owner))
        {
            Assert.False(await probe.IsCounterActiveHereAsync(key));
            Assert.Null(await probe.CounterValueIfActiveHereAsync(key));
        }
        Assert.Equal(1, store.Activations[key]);
    }
}
