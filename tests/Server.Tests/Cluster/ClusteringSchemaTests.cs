using System.Net;
using HomeServer.Silo.Startup.Clustering;
using HomeServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// The PostgreSQL schema for Orleans' ADO.NET clustering provider: real silos form a cluster on it, applying it
/// again (also from several silos at once) is harmless, and the provider's own table class gets the
/// compare-and-swap behaviour it relies on.
/// </summary>
public sealed class ClusteringSchemaTests : IAsyncLifetime
{
    private const string Invariant = "Npgsql";

    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);

    private static readonly string[] RequiredQueryKeys =
    [
        "GatewaysQueryKey",
        "MembershipReadRowKey",
        "MembershipReadAllKey",
        "InsertMembershipVersionKey",
        "UpdateIAmAlivetimeKey",
        "InsertMembershipKey",
        "UpdateMembershipKey",
        "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey",
    ];

    private readonly List<IHost> _hosts = [];
    private PostgresTestDatabase? _database;
    private NpgsqlDataSource? _dataSource;

    private PostgresTestDatabase Database => _database ?? throw new InvalidOperationException("Not initialized.");

    private NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        // Every host is stopped and the database dropped even when a stop fails; failures are reported afterwards.
        var failures = new List<Exception>();
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                await StopAsync(_hosts[i]);
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        if (failures.Count > 0)
        {
            throw new AggregateException(failures);
        }
    }

    [Fact]
    public async Task Two_silos_on_a_fresh_database_find_each_other_and_see_one_leave()
    {
        await PostgresClusteringSchema.ApplyAsync(DataSource, CancellationToken.None);
        var clusterId = NewClusterId();

        var first = await StartSiloAsync(clusterId);
        var second = await StartSiloAsync(clusterId);
        await WaitUntilAsync("both silos see two active silos", async () =>
            (await ActiveSilosAsync(GrainFactory(first))).Count == 2 && (await ActiveSilosAsync(GrainFactory(second))).Count == 2);

        // A client finds the gateways through the same tables.
        var client = await StartClientAsync(clusterId);
        Assert.Equal(2, (await ActiveSilosAsync(client.Services.GetRequiredService<IClusterClient>())).Count);
        await StopAsync(client);

        var leaving = second.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        await StopAsync(second);
        await WaitUntilAsync("the remaining silo sees the other one gone", async () =>
        {
            var active = await ActiveSilosAsync(GrainFactory(first));
            return active.Count == 1 && !active.ContainsKey(leaving);
        });
        Assert.Equal((int)SiloStatus.Dead, await StatusInTableAsync(clusterId, leaving));
    }

    [Fact]
    public async Task Applying_again_and_concurrently_keeps_the_schema_and_the_cluster_working()
    {
        await ExecuteAsync("""
            CREATE TABLE cluster_membership_version (cluster_id text PRIMARY KEY, version bigint NOT NULL);
            CREATE TABLE cluster_membership (cluster_id text NOT NULL, host text NOT NULL);
            """);

        await PostgresClusteringSchema.ApplyAsync(DataSource, CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresClusteringSchema.ApplyAsync(DataSource, CancellationToken.None))));

        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_class WHERE relname IN ('cluster_membership', 'cluster_membership_version')"));

        var clusterId = NewClusterId();
        var silo = await StartSiloAsync(clusterId);
        var address = silo.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        Assert.Equal((int)SiloStatus.Active, await StatusInTableAsync(clusterId, address));

        // Applied once more while the cluster runs: its rows stay and it keeps working.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => PostgresClusteringSchema.ApplyAsync(DataSource, CancellationToken.None))));
        Assert.Equal((int)SiloStatus.Active, await StatusInTableAsync(clusterId, address));
        var second = await StartSiloAsync(clusterId);
        await WaitUntilAsync("the silos see each other", async () => (await ActiveSilosAsync(GrainFactory(second))).Count == 2);
    }

    [Fact]
    public async Task All_queries_the_provider_requires_are_stored()
    {
        await PostgresClusteringSchema.ApplyAsync(DataSource, CancellationToken.None);

        var keys = new List<string>();
        await using (var command = DataSource.CreateCommand("SELECT QueryKey FROM OrleansQuery"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }
        Assert.Empty(RequiredQueryKeys.Except(keys));
        Assert.Contains("CleanupDefunctSiloEntryKey", keys);
    }

    [Fact]
    public async Task Membership_writes_succeed_only_against_the_current_table_version()
    {
        await PostgresClusteringSchema.ApplyAsync(DataSource, CancellationToken.None);
        var clusterId = NewClusterId();
        // A session time zone far from UTC: timestamps must not shift on the way in or out.
        var connectionString = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Timezone = "Asia/Kathmandu" }.ConnectionString;
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = clusterId }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = Invariant, ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(true);
        await table.InitializeMembershipTableAsync(true);

        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var now = Microseconds(DateTime.UtcNow);
        var one = Entry(SiloAddress.New(IPAddress.Loopback, 11111, 1), SiloStatus.Joining, now.AddMinutes(-1));
        Assert.False(await table.InsertRowAsync(one, new TableVersion(8, "7")));
        Assert.True(await table.InsertRowAsync(one, empty.Version.Next()));
        var afterInsert = await table.ReadAllAsync();
        Assert.Equal(1, afterInsert.Version.Version);
        Assert.False(await table.InsertRowAsync(one, afterInsert.Version.Next()));
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);

        var (stored, etag) = Assert.Single(afterInsert.Members);
        Assert.Equal(one.SiloAddress, stored.SiloAddress);
        Assert.Equal(one.SiloName, stored.SiloName);
        Assert.Equal(one.HostName, stored.HostName);
        Assert.Equal(one.ProxyPort, stored.ProxyPort);
        Assert.Equal(one.StartTime, stored.StartTime);
        Assert.Equal(one.IAmAliveTime, stored.IAmAliveTime);
        Assert.Equal(SiloStatus.Joining, stored.Status);

        // Heartbeats leave the version alone.
        stored.IAmAliveTime = now;
        await table.UpdateIAmAliveAsync(stored);
        var afterHeartbeat = await table.ReadRowAsync(one.SiloAddress);
        Assert.Equal(now, Assert.Single(afterHeartbeat.Members).Item1.IAmAliveTime);
        Assert.Equal(1, afterHeartbeat.Version.Version);

        // An update needs the current version; a missing row changes nothing.
        stored.Status = SiloStatus.Active;
        // The provider writes suspicion times to the millisecond only; a whole second round-trips exactly.
        var voteTime = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc).AddSeconds(-5);
        stored.SuspectTimes = [Tuple.Create(SiloAddress.New(IPAddress.Loopback, 22222, 2), voteTime)];
        Assert.False(await table.UpdateRowAsync(stored, "0", new TableVersion(1, "0")));
        var missing = Entry(SiloAddress.New(IPAddress.Loopback, 33333, 3), SiloStatus.Active, now);
        Assert.False(await table.UpdateRowAsync(missing, "1", new TableVersion(2, "1")));
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);
        Assert.True(await table.UpdateRowAsync(stored, etag, afterInsert.Version.Next()));
        var afterUpdate = await table.ReadAllAsync();
        Assert.Equal(2, afterUpdate.Version.Version);
        var updated = Assert.Single(afterUpdate.Members).Item1;
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(stored.SuspectTimes, updated.SuspectTimes);

        // Clients see active silos that accept clients.
        var gateways = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = Invariant, ConnectionString = connectionString }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = clusterId }));
        await gateways.InitializeGatewayListProvider();
        Assert.Equal([SiloAddress.New(IPAddress.Loopback, one.ProxyPort, one.SiloAddress.Generation).ToGatewayUri()], await gateways.GetGateways());

        // Clean-up forgets dead silos that went quiet before the cut-off, and nothing else.
        var longDead = Entry(SiloAddress.New(IPAddress.Loopback, 44444, 4), SiloStatus.Dead, now.AddHours(-2));
        var recentlyDead = Entry(SiloAddress.New(IPAddress.Loopback, 55555, 5), SiloStatus.Dead, now.AddMinutes(-2));
        longDead.SuspectTimes = [Tuple.Create(one.SiloAddress, voteTime.AddHours(-2))];
        Assert.True(await table.InsertRowAsync(longDead, afterUpdate.Version.Next()));
        Assert.True(await table.InsertRowAsync(recentlyDead, (await table.ReadAllAsync()).Version.Next()));
        await table.CleanupDefunctSiloEntriesAsync(now.AddHours(-1));
        var remaining = (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress).ToHashSet();
        Assert.Equal([one.SiloAddress, recentlyDead.SiloAddress], remaining.OrderBy(a => a.Endpoint.Port));

        await table.DeleteMembershipTableEntriesAsync(clusterId);
        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM OrleansMembershipTable) + (SELECT count(*) FROM OrleansMembershipVersionTable)"));
    }

    private static MembershipEntry Entry(SiloAddress address, SiloStatus status, DateTime time) => new()
    {
        SiloAddress = address,
        SiloName = $"silo-{address.Endpoint.Port}",
        HostName = "test-host",
        Status = status,
        ProxyPort = address.Endpoint.Port + 1,
        StartTime = time,
        IAmAliveTime = time,
    };

    // PostgreSQL keeps microseconds; DateTime has ten times finer ticks.
    private static DateTime Microseconds(DateTime time) => new(time.Ticks - time.Ticks % 10, DateTimeKind.Utc);

    private static string NewClusterId() => $"schema-test-{Guid.NewGuid():N}";

    private async Task<IHost> StartSiloAsync(string clusterId)
    {
        var ports = FreeTcpPorts.Take(2);
        var (siloPort, gatewayPort) = (ports[0], ports[1]);
        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleans(silo => silo
                .Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = clusterId;
                    options.ServiceId = clusterId;
                })
                .ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false)
                .UseAdoNetClustering(options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = Database.ConnectionString;
                }))
            .Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private async Task<IHost> StartClientAsync(string clusterId)
    {
        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleansClient(client => client
                .Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = clusterId;
                    options.ServiceId = clusterId;
                })
                .UseAdoNetClustering(options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = Database.ConnectionString;
                }))
            .Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private async Task StopAsync(IHost host)
    {
        if (!_hosts.Remove(host))
        {
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            if (host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }
        }
    }

    private static IGrainFactory GrainFactory(IHost silo) => silo.Services.GetRequiredService<IGrainFactory>();

    private static async Task<Dictionary<SiloAddress, SiloStatus>> ActiveSilosAsync(IGrainFactory grains) =>
        await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);

    private async Task<int?> StatusInTableAsync(string clusterId, SiloAddress silo)
    {
        await using var command = DataSource.CreateCommand(
            "SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = $1 AND Address = $2 AND Port = $3 AND Generation = $4");
        command.Parameters.Add(new NpgsqlParameter { Value = clusterId });
        command.Parameters.Add(new NpgsqlParameter { Value = silo.Endpoint.Address.ToString() });
        command.Parameters.Add(new NpgsqlParameter { Value = silo.Endpoint.Port });
        command.Parameters.Add(new NpgsqlParameter { Value = silo.Generation });
        return (int?)await command.ExecuteScalarAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task WaitUntilAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {WaitLimit.TotalSeconds} s waiting until {what}.");
            }
            await Task.Delay(200);
        }
    }
}
