using HomeServer.Silo.Configuration;
using HomeServer.Storage;
using HomeServer.Storage.Postgres;
using HomeServer.Storage.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Startup;

/// <summary>
/// Opens the configured store (applying schema migrations) before the silo starts, and closes it after the silo
/// has stopped, so grains can persist while they deactivate.
/// </summary>
internal sealed partial class StoreLifetime(IOptions<StorageOptions> options, ILogger<StoreLifetime> logger) : IHostedLifecycleService
{
    private IHomeServerStore? _store;

    public IHomeServerStore Store => _store ?? throw new InvalidOperationException("The store is not open yet.");

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var storage = options.Value;
        _store = storage.Kind switch
        {
            StorageKind.Postgres => await PostgresStore.OpenAsync(storage.ConnectionString!, cancellationToken),
            _ => await SqliteStore.OpenAsync(storage.ConnectionString!, cancellationToken),
        };
        LogOpened(storage.Kind);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_store is not null) await _store.DisposeAsync();
        _store = null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened the {Kind} store; schema is up to date")]
    private partial void LogOpened(StorageKind kind);
}
