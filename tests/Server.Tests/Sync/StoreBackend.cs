using HomeServer.Server.Tests.Infrastructure;
using HomeServer.TestSupport;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Which store a test server runs on; end-to-end classes run once per backend through two subclasses.</summary>
public abstract class StoreBackend : IAsyncDisposable
{
    /// <summary>Command-line arguments that make every server of this test use the same data (so a restart finds it again).</summary>
    public abstract Task<string[]> ArgumentsAsync();

    public abstract ValueTask DisposeAsync();

    public async Task<RunningServer> StartServerAsync(params string[] extra) =>
        await RunningServer.StartAsync([.. await ArgumentsAsync(), .. extra]);
}

public sealed class SqliteBackend : StoreBackend
{
    private readonly string _dataDirectory = TemporaryDirectory.NewPath();

    public override Task<string[]> ArgumentsAsync() => Task.FromResult(new[] { $"--DataDirectory={_dataDirectory}" });

    public override ValueTask DisposeAsync()
    {
        TemporaryDirectory.Delete(_dataDirectory);
        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresBackend : StoreBackend
{
    private PostgresTestDatabase? _database;

    public override async Task<string[]> ArgumentsAsync()
    {
        _database ??= await PostgresTestDatabase.CreateAsync();
        return ["--Storage:Kind=postgres", $"--Storage:ConnectionString={_database.ConnectionString}"];
    }

    public override async ValueTask DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
