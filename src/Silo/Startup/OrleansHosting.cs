using System.Net;
using System.Net.Sockets;
using HomeServer.Grains;
using HomeServer.Grains.Cluster;
using HomeServer.Silo.Configuration;
using HomeServer.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime;
using ClusterOptions = HomeServer.Silo.Configuration.ClusterOptions;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;

namespace HomeServer.Silo.Startup;

/// <summary>How this process joins the Orleans cluster: as a silo hosting the grains, or as a client (a gateway).</summary>
internal static class OrleansHosting
{
    /// <summary>The Orleans service id: stable across deployments of the homeserver, unlike the cluster id.</summary>
    private const string ServiceId = "matrix-homeserver";

    /// <summary>Where every process (silo or gateway) serves the Orleans Dashboard, to server admins only.</summary>
    public const string DashboardPath = "/_homeserver/dashboard";

    /// <summary>How often a silo probes its peers, and how long a probe may take.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    private const int MissedProbesLimit = 3;

    /// <summary>
    /// The longest a killed silo should stay Active in the table: each of the two voting silos misses its probes, then the
    /// second vote declares it dead.
    /// </summary>
    internal static TimeSpan FailureDetectionTime => ProbeTimeout * (MissedProbesLimit + 1) * 2;

    public static void AddSilo(WebApplicationBuilder builder, ClusterOptions cluster)
    {
        if (cluster.Membership == MembershipKind.Postgres)
        {
            builder.Services.AddSingleton<PostgresClusteringSchemaSetUp>();
            builder.Services.AddHostedService(provider => provider.GetRequiredService<PostgresClusteringSchemaSetUp>());
        }
        builder.UseOrleans(silo =>
        {
            silo.AddHomeServerGrains();
            CacheGrainInterfaceTypes(silo.Services);
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloDrainLog>();
            silo.Services.AddSingleton(new SiloBuild(cluster.BuildVersion ?? BuildVersion.OfThisAssembly));
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MixedBuildLog>();
            UseClustering(silo, cluster);
            UseFailureDetection(silo, builder.Configuration);
            UseRebalancer(silo, builder.Configuration);
            silo.AddActivityPropagation();
            // The dashboard's grains and per-silo collection; every silo needs them for any process to show the dashboard.
            silo.AddDashboard();
            silo.Services.Configure<DashboardOptions>(builder.Configuration.GetSection("Orleans:Dashboard"));
        });
    }

    /// <summary>Wraps the grain factory Orleans registered (before this runs) in <see cref="InterfaceTypeCachingGrainFactory"/>.</summary>
    private static void CacheGrainInterfaceTypes(IServiceCollection services)
    {
        var orleans = services.Last(service => service.ServiceType == typeof(IGrainFactory));
        var create = orleans.ImplementationFactory
            ?? throw new InvalidOperationException("Orleans no longer registers its grain factory through a factory method.");
        services.Replace(ServiceDescriptor.Singleton<IGrainFactory>(
            provider => new InterfaceTypeCachingGrainFactory((IGrainFactory)create(provider))));
    }

    /// <summary>
    /// Localhost clustering on a single node (a free silo port, no gateway port); the membership table in PostgreSQL in a
    /// cluster, on the configured ports (defaults 11111 and 30000).
    /// </summary>
    private static void UseClustering(ISiloBuilder silo, ClusterOptions cluster)
    {
        var inCluster = cluster.Membership == MembershipKind.Postgres;
        var siloPort = cluster.SiloPort ?? (inCluster ? ClusterOptions.DefaultSiloPort : FreeTcpPort());
        var gatewayPort = cluster.GatewayPort ?? (inCluster ? ClusterOptions.DefaultGatewayPort : 0);
        // An invalid address is reported by options validation before the silo starts.
        var address = IPAddress.TryParse(cluster.SiloHost, out var parsed) ? parsed : IPAddress.Loopback;
        if (inCluster)
        {
            silo.UseAdoNetClustering(options =>
            {
                options.Invariant = AdoNetInvariant;
                options.ConnectionString = MembershipConnectionString(cluster);
            });
        }
        else
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId, clusterId: cluster.ClusterId);
        }
        silo.Configure<OrleansClusterOptions>(options => SetIds(options, cluster));
        silo.Configure<EndpointOptions>(options =>
        {
            options.AdvertisedIPAddress = address;
            options.SiloPort = siloPort;
            options.GatewayPort = gatewayPort;
            options.SiloListeningEndpoint = new IPEndPoint(address, siloPort);
            options.GatewayListeningEndpoint = gatewayPort == 0 ? null : new IPEndPoint(address, gatewayPort);
        });
        silo.Configure<SiloOptions>(options => options.SiloName = inCluster ? $"{Environment.MachineName}-{siloPort}" : "single-node");
    }

    /// <summary>
    /// A killed silo is declared dead within a few seconds instead of Orleans' default of tens of seconds: calls to its
    /// grains fail until then. <c>Orleans:Membership</c> overrides any setting.
    /// </summary>
    private static void UseFailureDetection(ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Configure<ClusterMembershipOptions>(options =>
        {
            options.ProbeTimeout = ProbeTimeout;
            options.NumMissedProbesLimit = MissedProbesLimit;
            options.DefunctSiloExpiration = TimeSpan.FromHours(1);
        });
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
    }

    /// <summary>
    /// Orleans' activation rebalancer, started soon after a silo joins so a restarted silo gets its share back within
    /// seconds. <c>Orleans:Rebalancer</c> overrides any setting.
    /// </summary>
    private static void UseRebalancer(ISiloBuilder silo, IConfiguration configuration)
    {
#pragma warning disable ORLEANSEXP002 // The activation rebalancer is experimental in Orleans 10.4 (docs/adr/0011).
        silo.AddActivationRebalancer();
#pragma warning restore ORLEANSEXP002
        silo.Configure<ActivationRebalancerOptions>(options =>
        {
            options.RebalancerDueTime = TimeSpan.FromSeconds(5);
            options.SessionCyclePeriod = TimeSpan.FromSeconds(3);
        });
        silo.Configure<ActivationRebalancerOptions>(configuration.GetSection("Orleans:Rebalancer"));
    }

    public static void AddClient(WebApplicationBuilder builder, ClusterOptions cluster)
    {
        builder.Services.AddSingleton<GatewayClusterClient>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SiloLossCallFilter>();
        builder.Services.AddHostedService<ActiveSiloWatch>();
        builder.UseOrleansClient(client =>
        {
            CacheGrainInterfaceTypes(client.Services);
            client.UseAdoNetClustering(options =>
            {
                options.Invariant = AdoNetInvariant;
                options.ConnectionString = MembershipConnectionString(cluster);
            });
            client.Configure<OrleansClusterOptions>(options => SetIds(options, cluster));
            client.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            // Filters run in this order: the silo-loss filter watches each call, whichever filters come after it, and sends
            // a call it gives up anew as a new call through all of them.
            client.Services.AddSingleton<IOutgoingGrainCallFilter>(provider => provider.GetRequiredService<SiloLossCallFilter>());
            client.AddOutgoingGrainCallFilter<IdempotentRetryFilter>();
            // One instance observes the connection, retries it and answers the readiness check.
            client.Services.AddSingleton<IClusterConnectionStatusObserver>(provider => provider.GetRequiredService<GatewayClusterClient>());
            client.Services.AddSingleton<IClientConnectionRetryFilter>(provider => provider.GetRequiredService<GatewayClusterClient>());
            client.AddActivityPropagation();
            // Serves the dashboard from the silos' dashboard grains.
            client.AddDashboard();
            client.Services.Configure<DashboardOptions>(builder.Configuration.GetSection("Orleans:Dashboard"));
        });
    }

    private const string AdoNetInvariant = "Npgsql";

    /// <summary>The membership table's PostgreSQL, failing fast like the store's connections.</summary>
    private static string MembershipConnectionString(ClusterOptions cluster) =>
        PostgresConnectionSettings.WithFailFastDefaults(cluster.ConnectionString!);

    /// <summary>Silos and gateways of one cluster share its cluster id and the homeserver's service id.</summary>
    private static void SetIds(OrleansClusterOptions options, ClusterOptions cluster)
    {
        options.ClusterId = cluster.ClusterId;
        options.ServiceId = ServiceId;
    }

    /// <summary>A TCP port free now on loopback; a single node's silo port, which nothing outside the process uses.</summary>
    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
