using HomeServer.Grains.Cluster;
using HomeServer.Grains.Delivery;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace HomeServer.Grains.Tests.Infrastructure;

/// <summary>
/// The homeserver's grains on an Orleans in-process test cluster whose silos share one store. Tests reach the cluster
/// only through this surface (a grain factory, the silo count and faults by silo index).
/// </summary>
public sealed class GrainTestCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private GrainTestCluster(InProcessTestCluster cluster) => _cluster = cluster;

    /// <param name="configureSilo">Extra silo configuration, such as a stand-in grain class.</param>
    public static async Task<GrainTestCluster> StartAsync(int silos, IHomeServerStore? store, LocalServer server, Action<ISiloBuilder>? configureSilo = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddHomeServerGrains();
            if (store is not null) silo.Services.AddSingleton(store);
            silo.Services.AddSingleton(server).AddSingleton(new SyncDeliveryOptions());
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(15));
            // A killed silo is declared dead in seconds, as in production (the retry filter's window assumes it).
            silo.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 3;
            });
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client =>
        {
            client.AddOutgoingGrainCallFilter<IdempotentRetryFilter>();
            // A call that hangs should fail the test long before xunit's patience runs out.
            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(15));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new GrainTestCluster(cluster);
    }

    /// <summary>A client's view of the cluster, as a gateway has it.</summary>
    public IGrainFactory Grains => _cluster.Client;

    public int SiloCount => _cluster.Silos.Count;

    /// <summary>The services of a silo, to act as its grains do.</summary>
    public IServiceProvider SiloServices(int index) => SiloAt(index).ServiceProvider;

    /// <summary>The address of a silo, as silo-keyed grains are keyed.</summary>
    public SiloAddress SiloAddress(int index) => SiloAt(index).SiloAddress;

    /// <summary>Whether the silo has an activation of the grain.</summary>
    public bool IsActiveOn(int index, GrainId grain) =>
        SiloAt(index).ServiceProvider.GetRequiredService<ILocalActivationStatusChecker>().IsLocallyActivated(grain);

    /// <summary>Asks Orleans to deactivate the grain (as idle collection or a move would) and waits until it is gone.</summary>
    public async Task DeactivateAsync(GrainId grain)
    {
        await _cluster.DeactivateAsync(grain);
        await _cluster.WaitForDeactivationAsync(grain);
    }

    /// <summary>Whether any silo has an activation of the grain.</summary>
    public bool IsActive(GrainId grain) => _cluster.TryGetGrainContext(grain, out _);

    /// <summary>Replaces a grain class with a stand-in of the same grain type on every silo.</summary>
    public static Action<ISiloBuilder> WithStandIn<TGrain, TStandIn>() => silo =>
        silo.Services.PostConfigure<GrainTypeOptions>(options =>
        {
            options.Classes.Remove(typeof(TGrain));
            options.Classes.Add(typeof(TStandIn));
        });

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

    private InProcessSiloHandle SiloAt(int index)
    {
        var silos = _cluster.Silos;
        return silos[index % silos.Count];
    }

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}
