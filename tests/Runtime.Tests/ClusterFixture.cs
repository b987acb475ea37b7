using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Runtime.Tests;

/// <summary>Starts a test cluster with the test grains; the store and log are shared by every silo.</summary>
internal static class Clusters
{
    public static Task<TestCluster> StartAsync(int silos, SharedStore store, ProbeLog? log = null, Action<SiloOptions>? configure = null) =>
        TestCluster.StartAsync(silos,
            grains => grains.AddGrain<ICounterGrain, CounterGrain>().AddGrain<IProbeGrain, ProbeGrain>(),
            configure,
            services: services =>
            {
                services.AddSingleton(store);
                services.AddSingleton(log ?? new ProbeLog());
            });

    /// <summary>The two ways a caller reaches a grain: from inside the silo (no serialisation) and from a client over TCP.</summary>
    public static IGrainFactory Caller(TestCluster cluster, string path) => path switch
    {
        "local" => cluster.Silos[0],
        "remote" => cluster.Client,
        _ => throw new ArgumentOutOfRangeException(nameof(path)),
    };
}
