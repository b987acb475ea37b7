using HomeServer.Storage.Sqlite;
using HomeServer.Storage.Tests.Backends;
using Microsoft.Data.Sqlite;

namespace HomeServer.Storage.Tests;

/// <summary>What only the SQLite backend has: the native library, the file, WAL and the single writer.</summary>
public sealed class SqliteSpecificTests : IAsyncLifetime
{
    private readonly SqliteTestBackend _backend = new();

    private CancellationToken Ct { get; } = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    public Task InitializeAsync() => _backend.InitializeAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task The_bundled_native_sqlite_runs_and_is_recent_enough()
    {
        await using var store = await _backend.OpenStoreAsync(Ct);
        Assert.True(await store.Rooms.CreateRoomAsync(new NewRoom("!r:test", "10", "@a:test", 1), Ct));
        Assert.NotNull(await store.Rooms.GetRoomAsync("!r:test", Ct));

        await using var connection = await _backend.OpenRawConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        var version = Version.Parse((string)(await command.ExecuteScalarAsync(Ct))!);
        // STRICT tables need 3.37, RETURNING 3.35.
        Assert.True(version >= new Version(3, 37), $"SQLite {version} is too old");
    }

    [Fact]
    public async Task The_file_is_in_wal_mode_under_the_data_directory()
    {
        await using var store = await _backend.OpenStoreAsync(Ct);

        Assert.True(File.Exists(Path.Combine(_backend.DataDirectory, SqliteStore.DefaultFileName)));
        await using var connection = await _backend.OpenRawConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task A_missing_data_directory_is_created()
    {
        var nested = Path.Combine(_backend.DataDirectory, "nested", "deeper");
        await using (var store = await SqliteStore.OpenAsync(SqliteStore.ConnectionStringForDataDirectory(nested), Ct))
        {
            Assert.True(await store.Rooms.CreateRoomAsync(new NewRoom("!r:test", "10", "@a:test", 1), Ct));
        }
        Assert.True(File.Exists(Path.Combine(nested, SqliteStore.DefaultFileName)));
        SqliteConnection.ClearAllPools();
    }

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=shared;Mode=Memory")]
    [InlineData("Data Source=")]
    public async Task An_in_memory_database_is_refused(string connectionString)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SqliteStore.OpenAsync(connectionString, Ct));
    }

    [Fact]
    public async Task Many_concurrent_writes_queue_on_the_single_writer_without_busy_errors()
    {
        await using var store = await _backend.OpenStoreAsync(Ct);
        await using var other = await _backend.OpenStoreAsync(Ct);
        await store.Accounts.CreateAccountAsync(new NewAccount("@a:test", null, 1), Ct);

        var writes = Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? store : other).AccountData.SetAccountDataAsync("@a:test", null, $"t{i}", "{}"u8.ToArray(), Ct));
        var positions = await Task.WhenAll(writes);

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), positions.Order());
    }

    [Fact]
    public async Task A_disposed_store_refuses_further_use()
    {
        var store = await _backend.OpenStoreAsync(Ct);
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.Rooms.GetRoomAsync("!r:test", Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.Rooms.CreateRoomAsync(new NewRoom("!r:test", "10", "@a:test", 1), Ct));
        await store.DisposeAsync();
    }
}
