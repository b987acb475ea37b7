using HomeServer.Gateway;
using HomeServer.Gateway.Health;
using HomeServer.Grains;
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
        builder.Services.AddHostedService<DataDirectoryInitializer>();
        builder.Services.AddSingleton<StoreLifetime>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<StoreLifetime>());
        builder.Services.AddSingleton<IHomeServerStore>(provider => provider.GetRequiredService<StoreLifetime>().Store);
        builder.Services.AddSingleton(provider => new LocalServer(provider.GetRequiredService<IOptions<HomeServerOptions>>().Value.ServerName));
        builder.Services.AddSilo(
            silo =>
            {
                silo.SiloName = "single-node";
                silo.ShutdownTimeout = builder.Configuration.GetValue("ShutdownTimeout", TimeSpan.FromSeconds(30));
            },
            grains => grains.AddHomeServerGrains());
        builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo", tags: [GatewayHealthTags.Ready]);
        builder.Services.AddTelemetryExport(builder.Configuration);
        builder.Services.AddHostedService<StartupSummaryLogger>();

        var app = builder.Build();
        // Reports every invalid option at once, before hosted services and Kestrel read them one by one.
        app.Services.GetRequiredService<IStartupValidator>().Validate();

        app.UseMatrixGateway();
        app.MapMatrixClientApi();
        return app;
    }
}
