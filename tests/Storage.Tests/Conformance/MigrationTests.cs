using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Schema migrations; each test starts from a fresh, empty database.</summary>
public abstract class MigrationTests<TBackend> : IAsyncLifetime
    where TBackend : ITestStoreBackend, new()
{
    private readonly TBackend _backend = new();

    private CancellationToken Ct { get; } = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    public Task InitializeAsync() => _backend.InitializeAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task An_empty_database_gets_every_migration_and_a_second_run_is_a_no_op()
    {
        var first = await _backend.MigrateAsync(Ct);

        Assert.Equal(0, first.PreviousVersion);
        Assert.NotEmpty(first.AppliedVersions);
        Assert.Equal(first.AppliedVersions.Order().Distinct(), first.AppliedVersions);
        Assert.Equal(first.AppliedVersions[^1], first.CurrentVersion);

        var second = await _backend.MigrateAsync(Ct);

        Assert.Equal((first.CurrentVersion, first.CurrentVersion), (second.PreviousVersion, second.CurrentVersion));
        Assert.Empty(second.AppliedVersions);
        Assert.Equal(first.AppliedVersions.Count, await CountMigrationRowsAsync());
    }

    [Fact]
    public async Task Opening_a_store_migrates_and_reopening_applies_nothing_again()
    {
        await using (var store = await _backend.OpenStoreAsync(Ct))
        {
            Assert.True(await store.Rooms.CreateRoomAsync(new NewRoom("!r:test", "10", "@a:test", 1), Ct));
        }
        var rows = await CountMigrationRowsAsync();

        await using (var store = await _backend.OpenStoreAsync(Ct))
        {
            Assert.NotNull(await store.Rooms.GetRoomAsync("!r:test", Ct));
        }

        Assert.Equal(rows, await CountMigrationRowsAsync());
        Assert.Empty((await _backend.MigrateAsync(Ct)).AppliedVersions);
    }

    [Fact]
    public async Task Concurrent_starters_apply_each_migration_once()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => _backend.MigrateAsync(Ct))));

        var applied = results.SelectMany(r => r.AppliedVersions).ToList();
        Assert.Equal(applied.Distinct().Order(), applied.Order());
        Assert.Equal(applied.Count, await CountMigrationRowsAsync());
        Assert.Single(results, r => r.AppliedVersions.Count > 0);
    }

    [Fact]
    public async Task An_applied_migration_whose_script_changed_is_refused()
    {
        await _backend.MigrateAsync(Ct);
        await using (var connection = await _backend.OpenRawConnectionAsync(Ct))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1";
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _backend.MigrateAsync(Ct));
        Assert.Contains("Migration 1", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _backend.OpenStoreAsync(Ct));
    }

    [Fact]
    public async Task Versions_recorded_by_a_newer_build_are_left_alone()
    {
        var current = (await _backend.MigrateAsync(Ct)).CurrentVersion;
        await using (var connection = await _backend.OpenRawConnectionAsync(Ct))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText =
                $"INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ({current + 1}, 'future', 'x', 0)";
            await command.ExecuteNonQueryAsync(Ct);
        }

        var result = await _backend.MigrateAsync(Ct);

        Assert.Equal((current + 1, current + 1), (result.PreviousVersion, result.CurrentVersion));
        Assert.Empty(result.AppliedVersions);
    }

    private async Task<long> CountMigrationRowsAsync()
    {
        await using var connection = await _backend.OpenRawConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM schema_migrations";
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct));
    }
}
