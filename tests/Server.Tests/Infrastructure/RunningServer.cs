using HomeServer.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>The real server on Kestrel at a free loopback port, with its own temporary data directory.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly string[] _args;
    private readonly Action<WebApplication>? _configure;
    private readonly Action<IServiceCollection>? _services;
    private bool _restarted;

    private RunningServer(
        WebApplication app, string dataDirectory, CapturingLoggerProvider logs, string[] args, Action<WebApplication>? configure, Action<IServiceCollection>? services)
    {
        _args = args;
        _configure = configure;
        _services = services;
        App = app;
        DataDirectory = dataDirectory;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public string DataDirectory { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <param name="args">Command-line arguments; later ones win over the test defaults (which include generous rate limits).</param>
    /// <param name="configure">Runs after build and before start, e.g. to map test-only endpoints.</param>
    /// <param name="services">Runs on the services before they are built, e.g. to swap a grain class for a stand-in.</param>
    public static Task<RunningServer> StartAsync(string[]? args = null, Action<WebApplication>? configure = null, Action<IServiceCollection>? services = null) =>
        StartAsync(args ?? [], configure, services, TemporaryDirectory.NewPath());

    /// <summary>Stops this server (keeping its data) and starts a new one on the same data directory and arguments.</summary>
    public async Task<RunningServer> RestartAsync()
    {
        _restarted = true;
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        return await StartAsync(_args, _configure, _services, DataDirectory);
    }

    private static async Task<RunningServer> StartAsync(
        string[] args, Action<WebApplication>? configure, Action<IServiceCollection>? services, string dataDirectory)
    {
        var app = HomeServerHost.Build(["--urls=http://127.0.0.1:0", $"--DataDirectory={dataDirectory}", .. RateLimitArguments.Generous, .. args], services);
        var logs = new CapturingLoggerProvider();
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        configure?.Invoke(app);
        await app.StartAsync();
        return new RunningServer(app, dataDirectory, logs, args, configure, services);
    }

    public async ValueTask DisposeAsync()
    {
        if (_restarted) return;
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        TemporaryDirectory.Delete(DataDirectory);
    }
}
