using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Postgres;
using HomeServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HomeServer.Runtime.Tests;

/// <summary>The cluster scenarios that matter most, with membership in PostgreSQL instead of memory.</summary>
public sealed class PostgresClusterTests : IAsyncLifetime
{
    private PostgresTestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Silos_join_through_PostgreSQL_drain_without_failed_calls_and_a_killed_silo_is_declared_dead()
    {
        var table = await PostgresMembershipTable.OpenAsync(_dataSource, "pg-cluster", default);
        var store = new SharedStore();
        await using var cluster = await Testing.TestCluster.StartAsync(3,
            grains => grains.AddGrain<ICounterGrain, CounterGrain>(),
            table: table,
            services: services => services.AddSingleton(store));
        var keys = Enumerable.Range(0, 30).Select(i => $"pg{i}").ToArray();
        foreach (var key in keys) await cluster.Client.GetGrain<ICounterGrain>(key).IncrementAsync();

        var drained = cluster.Silos[0];
        await cluster.StopSiloAsync(drained);
        foreach (var key in keys) Assert.Equal(1, await cluster.Client.GetGrain<ICounterGrain>(key).GetAsync());

        var killed = cluster.Silos[0];
        await cluster.KillSiloAsync(killed);
        foreach (var key in keys) Assert.Equal(1, await cluster.Client.GetGrain<ICounterGrain>(key).GetAsync());
        await cluster.WaitForLivenessToStabilizeAsync();

        var rows = await table.ReadAllAsync(default);
        Assert.Equal(SiloStatus.Dead, rows.Find(drained.Address)!.Status);
        Assert.Equal(SiloStatus.Dead, rows.Find(killed.Address)!.Status);
        Assert.Equal(SiloStatus.Active, rows.Find(cluster.Silos.Single().Address)!.Status);
    }
}
