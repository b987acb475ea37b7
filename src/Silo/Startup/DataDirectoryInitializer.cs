using HomeServer.Silo.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Startup;

/// <summary>Creates the data directory before any hosted service starts, so storage can open its files in it.</summary>
internal sealed partial class DataDirectoryInitializer(IOptions<HomeServerOptions> options, ILogger<DataDirectoryInitializer> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(options.Value.DataDirectory);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path);
            LogCreated(path);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created data directory {Path}")]
    private partial void LogCreated(string path);
}
