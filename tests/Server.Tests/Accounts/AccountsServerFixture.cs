using HomeServer.Server.Tests.Infrastructure;
using HomeServer.TestSupport;

namespace HomeServer.Server.Tests.Accounts;

/// <summary>One server with open registration per test class, on SQLite or PostgreSQL.</summary>
public abstract class AccountsServerFixture : IAsyncLifetime
{
    /// <summary>Tests set the cost of password hashing down on purpose: they register and log in hundreds of times.</summary>
    public static readonly string[] TestArguments = ["--Registration:Mode=open", "--PasswordHashing:Iterations=1000"];

    private RunningServer? _server;

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public HttpClient Client => Server.Client;

    protected abstract Task<string[]> StorageArgumentsAsync();

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync([.. TestArguments, .. await StorageArgumentsAsync()]);

    /// <summary>Stops the server and starts it again on the same data.</summary>
    public async Task RestartAsync() => _server = await Server.RestartAsync();

    public virtual async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

public sealed class SqliteAccountsServer : AccountsServerFixture
{
    protected override Task<string[]> StorageArgumentsAsync() => Task.FromResult<string[]>([]);
}

public sealed class PostgresAccountsServer : AccountsServerFixture
{
    private PostgresTestDatabase? _database;

    protected override async Task<string[]> StorageArgumentsAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync();
        return ["--Storage:Kind=postgres", $"--Storage:ConnectionString={_database.ConnectionString}"];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}
