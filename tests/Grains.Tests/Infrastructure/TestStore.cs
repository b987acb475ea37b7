using HomeServer.Storage;
using HomeServer.Storage.Postgres;
using HomeServer.Storage.Sqlite;
using HomeServer.TestSupport;

namespace HomeServer.Grains.Tests.Infrastructure;

public enum StoreBackend
{
    Sqlite,
    Postgres,
}

/// <summary>A fresh, empty store on one backend (a temporary SQLite directory or a new PostgreSQL database), deleted on dispose.</summary>
public sealed class TestStore : IAsyncDisposable
{
    private readonly string? _directory;
    private readonly PostgresTestDatabase? _database;

    private TestStore(IHomeServerStore store, string? directory, PostgresTestDatabase? database)
    {
        Store = store;
        _directory = directory;
        _database = database;
    }

    public IHomeServerStore Store { get; }

    public static async Task<TestStore> OpenAsync(StoreBackend backend)
    {
        if (backend == StoreBackend.Postgres)
        {
            var database = await PostgresTestDatabase.CreateAsync();
            return new TestStore(await PostgresStore.OpenAsync(database.ConnectionString, CancellationToken.None), null, database);
        }
        var directory = Path.Combine(Path.GetTempPath(), "homeserver-grain-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return new TestStore(await SqliteStore.OpenAsync(SqliteStore.ConnectionStringForDataDirectory(directory), CancellationToken.None), directory, null);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        if (_directory is not null) Directory.Delete(_directory, recursive: true);
    }
}
