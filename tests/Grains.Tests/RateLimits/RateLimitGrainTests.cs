using HomeServer.Grains.RateLimits;
using HomeServer.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.RateLimits;

/// <summary>One rate-limit grain counts for every caller in the cluster; persisted buckets outlive their activation.</summary>
public sealed class RateLimitGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly RateLimitRule Slow = new("Message", PerSecond: 0.0001, Burst: 3);
    private static readonly RateLimitRule SlowPersisted = new("LoginFailedAttempts", PerSecond: 0.0001, Burst: 3, Persisted: true);

    [Fact]
    public async Task Callers_on_different_silos_draw_from_one_bucket()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(2, store.Store, Server);
        var subject = Server.UserId("shared");
        var callers = new[] { cluster.Grains, Factory(cluster, 0), Factory(cluster, 1) };

        var decisions = new List<RateLimitDecision>();
        for (var i = 0; i < 6; i++) decisions.Add(await callers[i % callers.Length].GetGrain<IRateLimitGrain>(subject).TryTakeAsync(Slow));

        Assert.Equal([true, true, true, false, false, false], decisions.Select(d => d.Allowed));
        Assert.All(decisions.Skip(3), d => Assert.InRange(d.RetryAfterMs, 9_000_000, 10_000_000));
    }

    [Fact]
    public async Task A_persisted_bucket_survives_deactivation_and_a_memory_only_one_starts_full_again()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var subject = Server.UserId("remembered");
        var grain = cluster.Grains.GetGrain<IRateLimitGrain>(subject);
        for (var i = 0; i < 3; i++)
        {
            await grain.PenalizeAsync(SlowPersisted);
            Assert.True((await grain.TryTakeAsync(Slow)).Allowed);
        }
        Assert.False((await grain.CheckAsync(SlowPersisted)).Allowed);

        await cluster.DeactivateAsync(GrainId.Create("rate-limit", subject));

        Assert.False((await grain.CheckAsync(SlowPersisted)).Allowed);
        Assert.True((await grain.TryTakeAsync(Slow)).Allowed);
    }

    [Fact]
    public async Task A_persisted_bucket_survives_a_restart_of_its_silo()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var subject = Server.UserId("restarted");
        for (var i = 0; i < 3; i++) await cluster.Grains.GetGrain<IRateLimitGrain>(subject).PenalizeAsync(SlowPersisted);

        await cluster.RestartSiloAsync(0);
        await cluster.WaitUntilStableAsync();

        var decision = await cluster.Grains.GetGrain<IRateLimitGrain>(subject).CheckAsync(SlowPersisted);
        Assert.False(decision.Allowed);
        Assert.True(decision.RetryAfterMs > 0);
    }

    [Fact]
    public async Task A_persisted_bucket_found_full_again_is_deleted_from_the_store()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var subject = Server.UserId("refilled");
        var fast = new RateLimitRule("LoginFailedAttempts", PerSecond: 100, Burst: 1, Persisted: true);
        var grain = cluster.Grains.GetGrain<IRateLimitGrain>(subject);
        await grain.PenalizeAsync(fast);
        Assert.Single(await store.Store.RateLimits.GetBucketsAsync(subject, CancellationToken.None));

        await Task.Delay(100);

        Assert.True((await grain.CheckAsync(fast)).Allowed);
        Assert.Empty(await store.Store.RateLimits.GetBucketsAsync(subject, CancellationToken.None));
    }

    [Fact]
    public async Task Invalid_rules_are_refused_and_change_nothing()
    {
        await using var store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var grain = cluster.Grains.GetGrain<IRateLimitGrain>(Server.UserId("invalid"));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => grain.TryTakeAsync(Slow with { PerSecond = 0 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => grain.TryTakeAsync(Slow with { Burst = 0 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => grain.TryTakeAsync(Slow, cost: 4));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => grain.PenalizeAsync(Slow with { Action = "" }));

        for (var i = 0; i < 3; i++) Assert.True((await grain.TryTakeAsync(Slow)).Allowed);
    }

    private static IGrainFactory Factory(GrainTestCluster cluster, int silo) => cluster.SiloServices(silo).GetRequiredService<IGrainFactory>();
}
