using HomeServer.Grains.Delivery;
using HomeServer.Runtime;
using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Testing;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Grains.Tests.Infrastructure;

/// <summary>
/// The homeserver's grains on an in-process cluster whose silos share one store. Tests reach the cluster only through
/// this surface (a grain factory, the silo count and faults by silo index), so moving to another test host changes
/// this file, not the tests.
/// </summary>
public sealed class GrainTestCluster : IAsyncDisposable
{
    private readonly TestCluster _cluster;

    private GrainTestCluster(TestCluster cluster) => _cluster = cluster;

    public static async Task<GrainTestCluster> StartAsync(int silos, IHomeServerStore store, LocalServer server)
    {
        var cluster = await TestCluster.StartAsync(silos, grains => grains.AddHomeServerGrains(),
            configure: options =>
            {
                // A call that hangs should fail the test long before xunit's patience runs out.
                options.ResponseTimeout = TimeSpan.FromSeconds(15);
                options.ShutdownTimeout = TimeSpan.FromSeconds(5);
            },
            services: services => services.AddSingleton(store).AddSingleton(server).AddSingleton(new SyncDeliveryOptions()));
        return new GrainTestCluster(cluster);
    }

    /// <summary>A client's view of the cluster, as a gateway has it.</summary>
    public IGrainFactory Grains => _cluster.Client;

    public int SiloCount => _cluster.Silos.Count;

    /// <summary>The silo vanishes without a word (a crashed process); a fresh silo takes its place.</summary>
    public async Task KillAndReplaceSiloAsync(int index)
    {
        await _cluster.KillSiloAsync(SiloAt(index));
        await _cluster.StartAdditionalSiloAsync();
    }

    /// <summary>The silo is killed and a new generation starts on the same endpoint (a restarted process).</summary>
    public Task RestartSiloAsync(int index) => _cluster.RestartSiloAsync(SiloAt(index));

    /// <summary>The silo drains and leaves (a rolling upgrade); a fresh silo takes its place.</summary>
    public async Task StopAndReplaceSiloAsync(int index)
    {
        await _cluster.StopSiloAsync(SiloAt(index));
        await _cluster.StartAdditionalSiloAsync();
    }

    public Task WaitUntilStableAsync() => _cluster.WaitForLivenessToStabilizeAsync();

    private Silo SiloAt(int index)
    {
        var silos = _cluster.Silos;
        return silos[index % silos.Count];
    }

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}
