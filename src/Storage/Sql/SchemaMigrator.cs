using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>
/// Applies pending migrations in one transaction and records each in <c>schema_migrations</c>. Running it
/// again is a no-op; a recorded migration whose script changed since is refused rather than ignored.
/// Versions recorded by a newer build are left alone, so an older build can still start during a rollout.
/// </summary>
internal static class SchemaMigrator
{
    public static Task<MigrationResult> MigrateAsync(SqlDatabase db, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            if (db.MigrationLockSql is { } lockSql)
            {
                await connection.Command(lockSql, transaction).WithoutTimeout().ExecuteAsync(ct);
            }
            await connection.Command(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, " +
                    "checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                    transaction)
                .ExecuteAsync(ct);
            var applied = await connection.Command("SELECT version, checksum FROM schema_migrations", transaction)
                .ListAsync(r => (Version: r.GetInt32(0), Checksum: r.GetString(1)), ct);
            var appliedChecksums = applied.ToDictionary(m => m.Version, m => m.Checksum);
            var previous = applied.Count == 0 ? 0 : applied.Max(m => m.Version);

            var newlyApplied = new List<int>();
            foreach (var migration in db.Migrations)
            {
                if (appliedChecksums.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Version} ({migration.Name}) was applied from a different script; " +
                            "applied migrations must never be edited. Add a new migration instead.");
                    }
                    continue;
                }
                await ApplyAsync(connection, transaction, migration, ct);
                newlyApplied.Add(migration.Version);
            }
            return new MigrationResult(previous, Math.Max(previous, newlyApplied.LastOrDefault()), newlyApplied);
        }, cancellationToken);

    private static async Task ApplyAsync(
        DbConnection connection, DbTransaction transaction, MigrationScript migration, CancellationToken ct)
    {
        await connection.Command(migration.Sql, transaction).WithoutTimeout().ExecuteAsync(ct);
        await connection.Command(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @at)",
                transaction)
            .With("@version", migration.Version)
            .With("@name", migration.Name)
            .With("@checksum", migration.Checksum)
            .With("@at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            .ExecuteAsync(ct);
    }
}
