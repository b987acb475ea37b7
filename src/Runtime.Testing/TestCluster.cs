using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Testing;

/// <summary>
/// N silos in this process on loopback TCP, sharing one membership table, plus a cluster client. Silos can be
/// stopped gracefully, killed abruptly, restarted as a new generation, and added.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<Silo> _silos = [];
    private readonly Action<GrainTypeRegistry> _grains;
    private readonly Action<SiloOptions>? _configure;
    private readonly Action<IServiceCollection>? _services;
    private int _nextSilo;

    private TestCluster(IMembershipTable table, Action<GrainTypeRegistry> grains, Action<SiloOptions>? configure, Action<IServiceCollection>? services)
    {
        Table = table;
        _grains = grains;
        _configure = configure;
        _services = services;
        var siloOptions = new SiloOptions();
        configure?.Invoke(siloOptions);
        Client = new ClusterClient(table, new ClusterClientOptions
        {
            TableRefreshInterval = TimeSpan.FromSeconds(1),
            ResponseTimeout = siloOptions.ResponseTimeout,
        }, Registry());
    }

    public IMembershipTable Table { get; }

    public ClusterClient Client { get; }

    public IReadOnlyList<Silo> Silos
    {
        get
        {
            lock (_silos) return [.. _silos];
        }
    }

    /// <summary>Membership timings short enough for tests: a dead silo is detected in about a second.</summary>
    public static void FastFailureDetection(SiloOptions options)
    {
        options.Membership.ProbeInterval = TimeSpan.FromMilliseconds(200);
        options.Membership.ProbeTimeout = TimeSpan.FromMilliseconds(500);
        options.Membership.NumMissedProbesLimit = 3;
        options.Membership.TableRefreshInterval = TimeSpan.FromSeconds(1);
        options.Membership.IAmAliveInterval = TimeSpan.FromSeconds(1);
    }

    public static async Task<TestCluster> StartAsync(int silos, Action<GrainTypeRegistry> grains,
        Action<SiloOptions>? configure = null, IMembershipTable? table = null, Action<IServiceCollection>? services = null)
    {
        var cluster = new TestCluster(table ?? new InMemoryMembershipTable(), grains, configure, services);
        for (var i = 0; i < silos; i++) await cluster.StartAdditionalSiloAsync();
        await cluster.Client.ConnectAsync(TimeSpan.FromSeconds(10));
        await cluster.WaitForLivenessToStabilizeAsync();
        return cluster;
    }

    private GrainTypeRegistry Registry()
    {
        var registry = new GrainTypeRegistry();
        _grains(registry);
        return registry;
    }

    public Task<Silo> StartAdditionalSiloAsync() => StartSiloAsync(port: 0);

    private async Task<Silo> StartSiloAsync(int port)
    {
        var options = new SiloOptions { SiloName = $"silo{Interlocked.Increment(ref _nextSilo)}", Port = port };
        FastFailureDetection(options);
        _configure?.Invoke(options);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        _services?.Invoke(services);
        var provider = services.BuildServiceProvider();
        var silo = new Silo(options, Registry(), Table, provider, loggerFactory: provider.GetRequiredService<ILoggerFactory>());
        await silo.StartAsync(CancellationToken.None);
        lock (_silos) _silos.Add(silo);
        return silo;
    }

    /// <summary>Graceful stop: the silo drains and writes itself Dead.</summary>
    public async Task StopSiloAsync(Silo silo)
    {
        lock (_silos) _silos.Remove(silo);
        await silo.StopAsync(CancellationToken.None);
    }

    /// <summary>Abrupt stop: the silo disappears without a word; the others must detect it.</summary>
    public Task KillSiloAsync(Silo silo)
    {
        lock (_silos) _silos.Remove(silo);
        silo.Kill();
        return Task.CompletedTask;
    }

    /// <summary>Kills the silo and starts a new generation on the same endpoint.</summary>
    public async Task<Silo> RestartSiloAsync(Silo silo)
    {
        await KillSiloAsync(silo);
        return await StartSiloAsync(silo.Address.Port);
    }

    /// <summary>Waits until every live silo and the client see exactly the live silos as Active, at one version.</summary>
    public async Task WaitForLivenessToStabilizeAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var live = Silos.Select(s => s.Address).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
            var table = await Table.ReadAllAsync(CancellationToken.None);
            foreach (var silo in Silos) await silo.Membership.RefreshAsync(CancellationToken.None);
            await Client.Membership.RefreshAsync(CancellationToken.None);
            var views = Silos.Select(s => s.Membership.Current).Append(Client.Membership.Current).ToArray();
            if (views.All(v => v.Version == table.Version && v.ActiveSilos.SequenceEqual(live))) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Membership did not stabilise: live {string.Join(", ", live)}; table v{table.Version}: " +
                    string.Join(", ", table.Entries.Select(e => $"{e.Address}={e.Status}")));
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        foreach (var silo in Silos) await silo.StopAsync(CancellationToken.None);
    }
}
