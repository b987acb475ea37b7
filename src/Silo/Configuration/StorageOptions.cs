using System.Data.Common;

namespace HomeServer.Silo.Configuration;

/// <summary>Bound from the <c>Storage</c> section.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    public const string SqliteFileName = "homeserver.db";

    public StorageKind Kind { get; set; } = StorageKind.Sqlite;

    /// <summary>Required for PostgreSQL; for SQLite it defaults to a file in the data directory.</summary>
    public string? ConnectionString { get; set; }

    public static string DefaultSqliteConnectionString(string dataDirectory) =>
        new DbConnectionStringBuilder { ["Data Source"] = Path.Combine(dataDirectory, SqliteFileName) }.ConnectionString;
}
