using HomeServer.Storage.Sql;
using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>The cluster store: PostgreSQL through Npgsql, failing fast when the server is unreachable (<see cref="PostgresConnectionSettings"/>).</summary>
public static class PostgresStore
{
    /// <summary>Opens the store on a connection string after applying pending migrations; disposing it closes the pool.</summary>
    public static Task<IHomeServerStore> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return OpenAsync(NpgsqlDataSource.Create(PostgresConnectionSettings.WithFailFastDefaults(connectionString)), ownsDataSource: true, cancellationToken);
    }

    /// <summary>Opens the store on a data source the caller owns (disposing the store leaves it open).</summary>
    public static Task<IHomeServerStore> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return OpenAsync(dataSource, ownsDataSource: false, cancellationToken);
    }

    /// <summary>Applies pending migrations and reports what was done.</summary>
    public static async Task<MigrationResult> MigrateAsync(string connectionString, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var db = new PostgresDatabase(NpgsqlDataSource.Create(PostgresConnectionSettings.WithFailFastDefaults(connectionString)), ownsDataSource: true);
        return await SchemaMigrator.MigrateAsync(db, cancellationToken);
    }

    private static async Task<IHomeServerStore> OpenAsync(
        NpgsqlDataSource dataSource, bool ownsDataSource, CancellationToken cancellationToken)
    {
        var db = new PostgresDatabase(dataSource, ownsDataSource);
        try
        {
            await SchemaMigrator.MigrateAsync(db, cancellationToken);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
        return new SqlHomeServerStore(db);
    }
}
