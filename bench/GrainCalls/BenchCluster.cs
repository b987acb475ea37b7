using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HomeServer.GrainCalls;

/// <summary>One silo of the benchmark cluster: its host, its own grain factory and its address.</summary>
public sealed record BenchSilo(IHost Host)
{
    public IGrainFactory GrainFactory => Host.Services.GetRequiredService<IGrainFactory>();

    public SiloAddress Address => Host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
}

/// <summary>
/// Two silos in this process talking over real loopback TCP (localhost clustering, silo 1 is the primary), and
/// optionally a cluster client connected to both silos' gateways. A fresh cluster id per cluster.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private const string ServiceId = "grain-calls-bench";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private BenchCluster(BenchSilo silo1, BenchSilo silo2, IHost? clientHost)
    {
        Silo1 = silo1;
        Silo2 = silo2;
        _clientHost = clientHost;
    }

    private readonly IHost? _clientHost;

    public BenchSilo Silo1 { get; }

    public BenchSilo Silo2 { get; }

    public IClusterClient Client => _clientHost?.Services.GetRequiredService<IClusterClient>()
        ?? throw new InvalidOperationException("This cluster was started without a client.");

    public static async Task<BenchCluster> StartAsync(bool withClient)
    {
        var clusterId = $"grain-calls-{Guid.NewGuid():N}";
        var ports = FreeTcpPorts.Take(4);
        var primary = new IPEndPoint(IPAddress.Loopback, ports[0]);
        var silo1 = await StartSiloAsync(clusterId, ports[0], ports[1], primary);
        var silo2 = await StartSiloAsync(clusterId, ports[2], ports[3], primary);
        IHost? client = null;
        if (withClient)
        {
            var builder = Host.CreateApplicationBuilder();
            QuietLogging(builder);
            builder.UseOrleansClient(c => c.UseLocalhostClustering([ports[1], ports[3]], ServiceId, clusterId));
            client = builder.Build();
            await client.StartAsync();
        }
        return new BenchCluster(silo1, silo2, client);
    }

    private static async Task<BenchSilo> StartSiloAsync(string clusterId, int siloPort, int gatewayPort, IPEndPoint primary)
    {
        var builder = Host.CreateApplicationBuilder();
        QuietLogging(builder);
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort, primary, ServiceId, clusterId));
        var host = builder.Build();
        await host.StartAsync();
        return new BenchSilo(host);
    }

    /// <summary>Warnings and errors only, on standard error, so that standard output is the Markdown report.</summary>
    private static void QuietLogging(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Its first check after start-up reports the time since boot as a stall; the hiccup column measures stalls.
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
    }

    /// <summary>
    /// Stops the client, then silo 2, then the primary. A failure while stopping is reported but does not discard
    /// the results already taken.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        IHost?[] hosts = [_clientHost, Silo2.Host, Silo1.Host];
        foreach (var host in hosts.OfType<IHost>())
        {
            try
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                await host.StopAsync(timeout.Token);
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"warning: stopping a host failed: {ex.GetType().Name}: {ex.Message}");
            }
            host.Dispose();
        }
    }

    private static class FreeTcpPorts
    {
        /// <summary>Loopback ports free right now, all different.</summary>
        public static int[] Take(int count)
        {
            // All listeners stay open until every port is chosen, so no port is handed out twice.
            var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
            foreach (var listener in listeners) listener.Start();
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
            foreach (var listener in listeners) listener.Stop();
            return ports;
        }
    }
}
