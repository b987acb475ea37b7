using System.Text;
using Npgsql;

namespace HomeServer.Silo.Startup.Clustering;

/// <summary>
/// Creates or brings up to date the PostgreSQL tables, functions and stored queries that Orleans' ADO.NET
/// clustering provider (invariant <c>Npgsql</c>) reads at start-up. The provider's NuGet package ships no schema
/// and creates none, and it refuses to start while a query key is missing, so each silo applies
/// <c>PostgresClusteringSchema.sql</c> before Orleans starts. Silos that start together take turns on an
/// advisory lock; the script only creates what is missing and replaces functions and queries, so applying it
/// again changes nothing. The membership tables of the runtime this one replaced are dropped on the way.
/// </summary>
internal static class PostgresClusteringSchema
{
    // Any constant unique to this schema ("HomeClus"); the store's migrations lock a different one.
    private const long LockKey = 0x486f6d65436c7573;

    private const string ResourceName = "HomeServer.Silo.Clustering.PostgresClusteringSchema.sql";

    private const string DropPreviousRuntimeTables = "DROP TABLE IF EXISTS cluster_membership, cluster_membership_version";

    private static readonly Lazy<string> Script = new(ReadScript);

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var sql in new[] { $"SELECT pg_advisory_xact_lock({LockKey})", DropPreviousRuntimeTables, Script.Value })
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static string ReadScript()
    {
        using var stream = typeof(PostgresClusteringSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Missing embedded resource {ResourceName}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
