using System.Data.Common;
using HomeServer.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace HomeServer.Storage.Tests.Backends;

public sealed class SqliteTestBackend : ITestStoreBackend
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"hs-sqlite-test-{Guid.NewGuid():N}");

    public string Name => "SQLite";

    public string DataDirectory => _directory;

    public string ConnectionString => SqliteStore.ConnectionStringForDataDirectory(_directory);

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public Task<IHomeServerStore> OpenStoreAsync(CancellationToken cancellationToken) =>
        SqliteStore.OpenAsync(ConnectionString, cancellationToken);

    public Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken) =>
        SqliteStore.MigrateAsync(ConnectionString, cancellationToken);

    public async Task<DbConnection> OpenRawConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(ConnectionString) { Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A store still open elsewhere in the test keeps the file; the temp directory is left behind.
        }
        return ValueTask.CompletedTask;
    }
}
