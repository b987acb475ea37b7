using HomeServer.Silo.Configuration;
using HomeServer.Silo.Startup.Clustering;
using HomeServer.Storage.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HomeServer.Silo.Startup;

/// <summary>Creates or updates the Orleans membership tables before the silo starts (they are not in Orleans' package).</summary>
internal sealed class PostgresClusteringSchemaSetUp(IOptions<ClusterOptions> options) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(PostgresConnectionSettings.WithFailFastDefaults(options.Value.ConnectionString!));
        await PostgresClusteringSchema.ApplyAsync(dataSource, cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
