using System.Data.Common;
using HomeServer.Storage.Postgres;
using HomeServer.TestSupport;
using Npgsql;

namespace HomeServer.Storage.Tests.Backends;

public sealed class PostgresTestBackend : ITestStoreBackend
{
    private PostgresTestDatabase? _database;

    public string Name => "PostgreSQL";

    private string ConnectionString =>
        _database?.ConnectionString ?? throw new InvalidOperationException("Backend not initialized.");

    public async Task InitializeAsync() => _database = await PostgresTestDatabase.CreateAsync();

    public Task<IHomeServerStore> OpenStoreAsync(CancellationToken cancellationToken) =>
        PostgresStore.OpenAsync(ConnectionString, cancellationToken);

    /// <summary>A second store on the same database, with Npgsql settings added to the connection string.</summary>
    public Task<IHomeServerStore> OpenStoreWithAsync(string settings, CancellationToken cancellationToken) =>
        PostgresStore.OpenAsync($"{ConnectionString};{settings}", cancellationToken);

    public Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken) =>
        PostgresStore.MigrateAsync(ConnectionString, cancellationToken);

    public async Task<DbConnection> OpenRawConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
