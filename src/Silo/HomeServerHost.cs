using HomeServer.Gateway;
using HomeServer.Gateway.Admin;
using HomeServer.Gateway.Health;
using HomeServer.Grains;
using HomeServer.Runtime;
using HomeServer.Runtime.Hosting;
using HomeServer.Storage;
using HomeServer.Silo.Configuration;
using HomeServer.Silo.Startup;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo;

public static class HomeServerHost
{
    /// <summary>
    /// Builds the single-node server: configuration, options validated at start, and the gateway in
    /// process. The caller starts it (<c>RunAsync</c>, or <c>StartAsync</c> in tests).
    /// </summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json ships beside the program, wherever it is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        HomeServerConfigurationSources.Apply(builder.Configuration);

        builder.Services.AddHomeServerOptions(builder.Configuration);
        builder.Services.AddMatrixGateway();
        builder.Services.AddSingleton(provider => new LocalServer(provider.GetRequiredService<IOptions<HomeServerOptions>>().Value.ServerName));
        builder.Services.AddSingleton<ClusterMembership>();
        var role = RoleOf(builder.Configuration);
        if (role == ClusterRole.Gateway)
        {
            AddGatewayRole(builder.Services);
        }
        else
        {
            AddSiloRole(builder.Services);
        }
        builder.Services.AddHostedService<DrainGracePeriod>();
        builder.Services.AddTelemetryExport(builder.Configuration);
        builder.Services.AddSingleton<IProcessCounters, ProcessCounterListener>();
        builder.Services.AddHostedService<StartupSummaryLogger>();

        var app = builder.Build();
        // Reports every invalid option at once, before hosted services and Kestrel read them one by one.
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        // The counters total what happens while the listener exists: from start-up, not from the first metrics request.
        app.Services.GetRequiredService<IProcessCounters>();

        app.UseMatrixGateway();
        app.MapMatrixClientApi();
        if (role == ClusterRole.Silo) app.MapSiloStatus();
        return app;
    }

    // Read before the container exists because it decides what goes in it; an invalid value is reported by
    // options validation, and meanwhile the default role is assumed.
    private static ClusterRole RoleOf(IConfiguration configuration) =>
        Enum.TryParse<ClusterRole>(configuration[$"{ClusterOptions.SectionName}:{nameof(ClusterOptions.Role)}"], ignoreCase: true, out var role)
            ? role
            : ClusterRole.Silo;

    /// <summary>Grains, their store and the silo in this process, with the gateway calling them in process.</summary>
    private static void AddSiloRole(IServiceCollection services)
    {
        services.AddHostedService<DataDirectoryInitializer>();
        services.AddSingleton<StoreLifetime>();
        services.AddHostedService(provider => provider.GetRequiredService<StoreLifetime>());
        services.AddSingleton<IHomeServerStore>(provider => provider.GetRequiredService<StoreLifetime>().Store);
        services.AddSingleton(provider => provider.GetRequiredService<ClusterMembership>().Table);
        services.AddSilo(
            (provider, silo) =>
            {
                var cluster = provider.GetRequiredService<IOptions<ClusterOptions>>().Value;
                silo.SiloName = cluster.Membership == MembershipKind.InMemory ? "single-node" : Environment.MachineName;
                silo.Host = cluster.SiloHost;
                silo.Port = cluster.SiloPort;
                silo.ShutdownTimeout = provider.GetRequiredService<IOptions<HomeServerOptions>>().Value.ShutdownTimeout;
                silo.BuildVersion = cluster.BuildVersion ?? silo.BuildVersion;
            },
            grains => grains.AddHomeServerGrains());
        services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo", tags: [GatewayHealthTags.Ready]);
    }

    /// <summary>Only the Client-Server API; grains are reached on the silos listed in the membership table.</summary>
    private static void AddGatewayRole(IServiceCollection services)
    {
        services.AddSingleton(provider => new ClusterClient(
            provider.GetRequiredService<ClusterMembership>().Table,
            new ClusterClientOptions
            {
                BuildVersion = provider.GetRequiredService<IOptions<ClusterOptions>>().Value.BuildVersion ?? new ClusterClientOptions().BuildVersion,
            },
            loggerFactory: provider.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IGrainFactory>(provider => provider.GetRequiredService<ClusterClient>());
        services.AddSingleton<IClusterControl>(provider => provider.GetRequiredService<ClusterClient>());
        services.AddSingleton<GatewayClusterClient>();
        services.AddHostedService(provider => provider.GetRequiredService<GatewayClusterClient>());
        services.AddHealthChecks().AddCheck<GatewayClusterClient>("cluster", tags: [GatewayHealthTags.Ready]);
    }
}
