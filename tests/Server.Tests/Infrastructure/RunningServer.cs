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
    private RunningServer(WebApplication app, string dataDirectory, CapturingLoggerProvider logs)
    {
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

    /// <param name="args">Command-line arguments; later ones win over the test defaults.</param>
    /// <param name="configure">Runs after build and before start, e.g. to map test-only endpoints.</param>
    public static async Task<RunningServer> StartAsync(string[]? args = null, Action<WebApplication>? configure = null)
    {
        var dataDirectory = TemporaryDirectory.NewPath();
        var app = HomeServerHost.Build(["--urls=http://127.0.0.1:0", $"--DataDirectory={dataDirectory}", .. args ?? []]);
        var logs = new CapturingLoggerProvider();
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        configure?.Invoke(app);
        await app.StartAsync();
        return new RunningServer(app, dataDirectory, logs);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        TemporaryDirectory.Delete(DataDirectory);
    }
}
