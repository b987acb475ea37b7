using HomeServer.Gateway;
using HomeServer.Gateway.Admin;
using HomeServer.Gateway.Health;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Silo.Configuration;
using HomeServer.Silo.Startup;
using HomeServer.Storage;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace HomeServer.Silo;

public static class HomeServerHost
{
    /// <summary>
    /// Builds the single-node server: configuration, options validated at start, and the gateway in
    /// process. The caller starts it (<c>RunAsync</c>, or <c>StartAsync</c> in tests).
    /// </summary>
    /// <param name="configureServices">Runs last on the services before they are built (tests swap grain classes there).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
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
        var cluster = ClusterOf(builder.Configuration);
        if (cluster.Role == ClusterRole.Gateway)
        {
            AddGatewayRole(builder, cluster);
        }
        else
        {
            AddSiloRole(builder, cluster);
        }
        builder.Services.AddHostedService<DrainGracePeriod>();
        builder.Services.AddTelemetryExport(builder.Configuration);
        builder.Services.AddSingleton<IProcessCounters, ProcessCounterListener>();
        builder.Services.AddSingleton(provider => new ConnectionsPerIpLimit(
            provider.GetRequiredService<IOptions<InputLimitsOptions>>().Value.MaxConnectionsPerIp,
            provider.GetRequiredService<ILogger<ConnectionsPerIpLimit>>(),
            provider.GetRequiredService<IOptions<RateLimitOptions>>().Value.TrustedProxies));
        // Endpoint defaults reach the endpoints of `urls` too; the limit is read when Kestrel starts, after validation.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
            listen.UseConnectionsPerIpLimit(kestrel.ApplicationServices.GetRequiredService<ConnectionsPerIpLimit>())));
        builder.Services.AddHostedService<StartupSummaryLogger>();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        // Reports every invalid option at once, before hosted services and Kestrel read them one by one.
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        // The counters total what happens while the listener exists: from start-up, not from the first metrics request.
        app.Services.GetRequiredService<IProcessCounters>();

        app.UseMatrixGateway();
        app.UseServerAdminOnly(TelemetryExport.PrometheusPath);
        app.UseServerAdminPage(OrleansHosting.DashboardPath);
        app.MapMatrixClientApi();
        app.MapTelemetryExport();
        app.MapOrleansDashboard(OrleansHosting.DashboardPath);
        if (cluster.Role == ClusterRole.Silo) app.MapSiloStatus();
        return app;
    }

    // Read before the container exists because it decides what goes in it; invalid values are reported by options
    // validation at start, and meanwhile defaults are assumed.
    private static ClusterOptions ClusterOf(IConfiguration configuration)
    {
        var cluster = new ClusterOptions();
        try
        {
            configuration.GetSection(ClusterOptions.SectionName).Bind(cluster);
        }
        catch (InvalidOperationException)
        {
            return new ClusterOptions();
        }
        if (cluster.Membership == MembershipKind.Postgres && string.IsNullOrWhiteSpace(cluster.ConnectionString)
            && string.Equals(configuration["Storage:Kind"], nameof(StorageKind.Postgres), StringComparison.OrdinalIgnoreCase))
        {
            cluster.ConnectionString = configuration["Storage:ConnectionString"];
        }
        return cluster;
    }

    /// <summary>Grains, their store and the Orleans silo in this process, with the gateway calling them in process.</summary>
    private static void AddSiloRole(WebApplicationBuilder builder, ClusterOptions cluster)
    {
        var services = builder.Services;
        services.AddHostedService<DataDirectoryInitializer>();
        services.AddSingleton<StoreLifetime>();
        services.AddHostedService(provider => provider.GetRequiredService<StoreLifetime>());
        services.AddSingleton<IHomeServerStore>(provider => provider.GetRequiredService<StoreLifetime>().Store);
        OrleansHosting.AddSilo(builder, cluster);
        services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo", tags: [GatewayHealthTags.Ready]);
    }

    /// <summary>Only the Client-Server API, calling grains on the silos as an Orleans client.</summary>
    private static void AddGatewayRole(WebApplicationBuilder builder, ClusterOptions cluster)
    {
        OrleansHosting.AddClient(builder, cluster);
        builder.Services.AddHealthChecks().AddCheck<GatewayClusterClient>("cluster", tags: [GatewayHealthTags.Ready]);
    }
}
