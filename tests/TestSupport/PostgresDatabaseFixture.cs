namespace HomeServer.TestSupport;

/// <summary>xunit fixture giving a test class (IClassFixture) or a test (created per test) its own fresh database.</summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    private PostgresTestDatabase? _database;

    public PostgresTestDatabase Database =>
        _database ?? throw new InvalidOperationException("The fixture is not initialized yet.");

    public string ConnectionString => Database.ConnectionString;

    public async Task InitializeAsync() => _database = await PostgresTestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
