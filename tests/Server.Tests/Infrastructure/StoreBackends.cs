using HomeServer.Grains.Sync;
using HomeServer.TestSupport;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>
/// Which store a server runs on, so one end-to-end test class can run against both: the storage arguments for the
/// server, and a data directory / database that outlives a server, so tests can restart on the same data.
/// </summary>
public abstract class StoreBackend : IAsyncDisposable
{
    /// <summary>Command-line arguments that point a server at this backend's data.</summary>
    public abstract string[] ServerArguments { get; }

    public Task<RunningServer> StartServerAsync(
        Action<Microsoft.AspNetCore.Builder.WebApplication>? configure = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        RunningServer.StartAsync(ServerArguments, configure, services);

    public abstract ValueTask DisposeAsync();
}

public sealed class SqliteBackend : StoreBackend
{
    private readonly string _dataDirectory = TemporaryDirectory.NewPath();

    public override string[] ServerArguments => [$"--DataDirectory={_dataDirectory}"];

    public override ValueTask DisposeAsync()
    {
        TemporaryDirectory.Delete(_dataDirectory);
        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresBackend(PostgresTestDatabase database) : StoreBackend
{
    public static async Task<PostgresBackend> CreateAsync() => new(await PostgresTestDatabase.CreateAsync());

    public override string[] ServerArguments => ["--Storage:Kind=postgres", $"--Storage:ConnectionString={database.ConnectionString}"];

    public override ValueTask DisposeAsync() => database.DisposeAsync();
}

/// <summary>One server per test class on the backend the subclass picks.</summary>
public abstract class BackendServerFixture : IAsyncLifetime
{
    private StoreBackend? _backend;
    private RunningServer? _server;

    public StoreBackend Backend => _backend ?? throw new InvalidOperationException("Not started.");

    public RunningServer Server => _server ?? throw new InvalidOperationException("Not started.");

    protected abstract Task<StoreBackend> CreateBackendAsync();

    /// <summary>Runs after the server is built and before it starts.</summary>
    protected virtual void Configure(Microsoft.AspNetCore.Builder.WebApplication app)
    {
    }

    /// <summary>Runs on the server's services before they are built.</summary>
    protected virtual void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
    {
    }

    public async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync();
        _server = await _backend.StartServerAsync(Configure, ConfigureServices);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_backend is not null) await _backend.DisposeAsync();
    }
}

public sealed class SqliteServerFixture : BackendServerFixture
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresServerFixture : BackendServerFixture
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>Servers whose sync grains only record the notices rooms send them (see Rooms/RecordingSyncGrain).</summary>
public sealed class SqliteRecordingServerFixture : BackendServerFixture
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());

    protected override void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services) =>
        GrainStandIns.Replace<SyncGrain, Rooms.RecordingSyncGrain>(services);
}

public sealed class PostgresRecordingServerFixture : BackendServerFixture
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();

    protected override void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services) =>
        GrainStandIns.Replace<SyncGrain, Rooms.RecordingSyncGrain>(services);
}
