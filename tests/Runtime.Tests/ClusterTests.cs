using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Testing;

namespace HomeServer.Runtime.Tests;

public sealed class ClusterTests
{
    private static string[] Keys(int count, string prefix = "g") => Enumerable.Range(0, count).Select(i => $"{prefix}{i}").ToArray();

    [Fact]
    public async Task Concurrent_first_calls_from_every_silo_and_the_client_create_exactly_one_activation()
    {
        var store = new SharedStore();
        await using var cluster = await Clusters.StartAsync(3, store);
        var callers = cluster.Silos.Cast<IGrainFactory>().Append(cluster.Client).ToArray();
        var keys = Keys(50, "once");
        var calls = keys.SelectMany(key => callers.SelectMany(caller =>
            Enumerable.Range(0, 4).Select(_ => caller.GetGrain<ICounterGrain>(key).IncrementAsync())));
        await Task.WhenAll(calls);
        foreach (var key in keys)
        {
            Assert.Equal(1, store.Activations[key]);
            Assert.Equal(callers.Length * 4, store.Values[key]);
            Assert.Single(cluster.Silos, s => s.IsHosting(new GrainId("counter", key)));
        }
    }

    [Fact]
    public async Task Grains_spread_evenly_over_the_silos()
    {
        await using var cluster = await Clusters.StartAsync(3, new SharedStore());
        await Task.WhenAll(Keys(900).Select(k => cluster.Client.GetGrain<ICounterGrain>(k).GetAsync()));
        foreach (var silo in cluster.Silos) Assert.InRange(silo.ActivationCount, 225, 375); // ±25% of 300
    }

    [Fact]
    public async Task A_call_that_reaches_a_silo_which_does_not_own_the_grain_is_forwarded_to_the_owner()
    {
        var store = new SharedStore();
        await using var cluster = await Clusters.StartAsync(2, store);
        var key = Keys(100).First(k => Placement.RendezvousPlacement.SelectOwner(new GrainId("counter", k),
            cluster.Silos[0].Membership.Current.ActiveSilos) == cluster.Silos[1].Address);
        await using var raw = new RawConnection(cluster.Silos[0].Address); // deliberately the wrong silo
        Assert.Equal(1, await raw.CallAsync<ICounterGrain, int>(key, nameof(ICounterGrain.IncrementAsync)));
        Assert.True(cluster.Silos[1].IsHosting(new GrainId("counter", key)));
        Assert.False(cluster.Silos[0].IsHosting(new GrainId("counter", key)));
    }

    [Fact]
    public async Task A_graceful_stop_under_load_fails_no_call_and_loses_no_state()
    {
        var store = new SharedStore();
        await using var cluster = await Clusters.StartAsync(3, store);
        var keys = Keys(60, "drain");
        foreach (var key in keys) await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();
        var victim = cluster.Silos[1];
        var declaredDead = 0;
        victim.DeclaredDead += () => Interlocked.Increment(ref declaredDead);
        var moved = keys.Where(k => victim.IsHosting(new GrainId("counter", k))).ToArray();
        Assert.NotEmpty(moved);

        using var stop = new CancellationTokenSource();
        var failures = 0;
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(async worker =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var key in keys)
                {
                    try
                    {
                        await cluster.Client.GetGrain<ICounterGrain>(key).GetAsync();
                    }
                    catch
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }
        }));
        await Task.Delay(200);
        await cluster.StopSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync();
        await Task.Delay(200);
        stop.Cancel();
        await load;

        Assert.Equal(0, failures);
        Assert.Equal(SiloStatus.Dead, (await cluster.Table.ReadAllAsync(default)).Find(victim.Address)!.Status);
        Assert.Equal(0, declaredDead); // writing its own Dead row is not being declared dead by peers
        foreach (var key in keys)
        {
            Assert.Equal(1, await cluster.Client.GetGrain<ICounterGrain>(key).GetAsync());
            Assert.Equal(1, store.Live[key]); // never two live activations, never none after a call
        }
        foreach (var key in moved) Assert.Equal(2, store.Activations[key]);
        // The moved grains are spread over both remaining silos, not piled onto one.
        Assert.All(cluster.Silos, s => Assert.Contains(moved, k => s.IsHosting(new GrainId("counter", k))));
    }

    [Fact]
    public async Task A_killed_silo_is_declared_dead_and_idempotent_calls_to_its_grains_succeed_on_the_new_owner()
    {
        var store = new SharedStore();
        await using var cluster = await Clusters.StartAsync(3, store);
        var keys = Keys(60, "kill");
        foreach (var key in keys) await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();
        var victim = cluster.Silos[2];
        var orphaned = keys.Where(k => victim.IsHosting(new GrainId("counter", k))).ToArray();
        Assert.NotEmpty(orphaned);

        var killedAt = DateTime.UtcNow;
        await cluster.KillSiloAsync(victim);
        var reads = orphaned.Select(k => cluster.Client.GetGrain<ICounterGrain>(k).GetAsync()).ToArray();
        Assert.All(await Task.WhenAll(reads), value => Assert.Equal(1, value)); // state was written through
        await cluster.WaitForLivenessToStabilizeAsync();
        var detection = DateTime.UtcNow - killedAt;
        Assert.True(detection < TimeSpan.FromSeconds(10), $"death detected after {detection}");
        Assert.Equal(SiloStatus.Dead, (await cluster.Table.ReadAllAsync(default)).Find(victim.Address)!.Status);
    }

    [Fact]
    public async Task A_non_idempotent_call_to_a_dead_silo_fails_with_a_clear_error_instead_of_hanging()
    {
        await using var cluster = await Clusters.StartAsync(2, new SharedStore(), configure: o => o.ResponseTimeout = TimeSpan.FromSeconds(3));
        var victim = cluster.Silos[1];
        var key = Keys(100).First(k => Placement.RendezvousPlacement.SelectOwner(new GrainId("counter", k),
            cluster.Client.Membership.Current.ActiveSilos) == victim.Address);
        await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();
        await cluster.KillSiloAsync(victim);
        var error = await Record.ExceptionAsync(() => cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync());
        if (error is not null) Assert.True(error is SiloUnavailableException or GrainCallTimeoutException, error.ToString());
    }

    [Fact]
    public async Task A_restarted_silo_rejoins_as_a_new_generation_and_gets_its_share_back()
    {
        var store = new SharedStore();
        await using var cluster = await Clusters.StartAsync(2, store);
        var old = cluster.Silos[1];
        var restarted = await cluster.RestartSiloAsync(old);
        await cluster.WaitForLivenessToStabilizeAsync();
        Assert.Equal(old.Address.Port, restarted.Address.Port);
        Assert.True(restarted.Address.Generation > old.Address.Generation);
        var table = await cluster.Table.ReadAllAsync(default);
        Assert.Equal(SiloStatus.Dead, table.Find(old.Address)!.Status);
        Assert.Equal(SiloStatus.Active, table.Find(restarted.Address)!.Status);

        await Task.WhenAll(Keys(200, "back").Select(k => cluster.Client.GetGrain<ICounterGrain>(k).GetAsync()));
        Assert.InRange(restarted.ActivationCount, 60, 140);
    }

    [Fact]
    public async Task When_a_silo_joins_its_share_moves_to_it_with_no_duplicate_activation()
    {
        var store = new SharedStore();
        await using var cluster = await Clusters.StartAsync(2, store);
        var keys = Keys(120, "join");
        foreach (var key in keys) await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();
        var joined = await cluster.StartAdditionalSiloAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        foreach (var key in keys) Assert.Equal(2, await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync());
        Assert.InRange(joined.ActivationCount, 20, 60);
        for (var i = 0; i < 100 && keys.Any(k => store.Live[k] != 1); i++) await Task.Delay(50);
        Assert.All(keys, k => Assert.Equal(1, store.Live[k]));
    }
}
