using System.Data.Common;
using HomeServer.Storage.Sql;
using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>A pooled Npgsql data source; every write is one READ COMMITTED transaction on its own connection.</summary>
internal sealed class PostgresDatabase(NpgsqlDataSource dataSource, bool ownsDataSource) : SqlDatabase
{
    // Any constant unique to this schema; serializes concurrent migration runs of several silos.
    private const long MigrationLockKey = 0x486f6d6553727631;

    private static readonly IReadOnlyList<MigrationScript> Scripts =
        MigrationScript.LoadEmbedded("HomeServer.Storage.Postgres.Migrations.");

    public override async Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await work(connection, cancellationToken);
    }

    public override async Task<T> WriteAsync<T>(
        Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public override string InSet(DbCommand command, string column, string parameterName, IReadOnlyCollection<string> values)
    {
        command.With(parameterName, values.ToArray());
        return $"{column} = ANY({parameterName})";
    }

    public override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override bool IsForeignKeyViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation };

    public override string? MigrationLockSql => $"SELECT pg_advisory_xact_lock({MigrationLockKey})";

    public override IReadOnlyList<MigrationScript> Migrations => Scripts;

    public override ValueTask DisposeAsync() => ownsDataSource ? dataSource.DisposeAsync() : ValueTask.CompletedTask;
}
