using HomeServer.Storage.Sql;

namespace HomeServer.Storage.Sqlite;

/// <summary>The embedded single-node store: one SQLite file, by default <c>homeserver.db</c> under the data directory.</summary>
public static class SqliteStore
{
    public const string DefaultFileName = "homeserver.db";

    public static string ConnectionStringForDataDirectory(string dataDirectory) =>
        $"Data Source={Path.Combine(Path.GetFullPath(dataDirectory), DefaultFileName)}";

    /// <summary>Opens the store (creating the file if needed) after applying pending migrations.</summary>
    public static async Task<IHomeServerStore> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var db = await SqliteDatabase.OpenAsync(connectionString, cancellationToken);
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

    /// <summary>Applies pending migrations and reports what was done.</summary>
    public static async Task<MigrationResult> MigrateAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var db = await SqliteDatabase.OpenAsync(connectionString, cancellationToken);
        return await SchemaMigrator.MigrateAsync(db, cancellationToken);
    }
}
