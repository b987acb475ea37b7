using System.Data.Common;
using HomeServer.Storage.Sql;
using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>
/// A pooled Npgsql data source; every write is one READ COMMITTED transaction on its own connection. When the
/// server cannot be reached the work fails with <see cref="StoreUnavailableException"/>; after a lost connection
/// the pool drops its idle ones too (after a server restart they are all broken) so the next request opens fresh ones.
/// </summary>
internal sealed class PostgresDatabase(NpgsqlDataSource dataSource, bool ownsDataSource) : SqlDatabase
{
    // Any constant unique to this schema; serializes concurrent migration runs of several silos.
    private const long MigrationLockKey = 0x486f6d6553727631;

    private static readonly IReadOnlyList<MigrationScript> Scripts =
        MigrationScript.LoadEmbedded("HomeServer.Storage.Postgres.Migrations.");

    private readonly GroupedPositionClaims _claims = new(dataSource);

    public override async Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadOnceAsync(work, cancellationToken);
        }
        catch (Exception exception) when (PostgresConnectionSettings.IsUnavailable(exception) && PostgresConnectionSettings.LostTheConnection(exception))
        {
            // After PostgreSQL restarted, idle pooled connections are broken and the first use of each fails. A read
            // changes nothing, so it is tried once more on a fresh connection before the client is told to retry.
            dataSource.Clear();
        }
        try
        {
            return await ReadOnceAsync(work, cancellationToken);
        }
        catch (Exception exception) when (PostgresConnectionSettings.IsUnavailable(exception))
        {
            throw Unavailable(exception);
        }
    }

    private async Task<T> ReadOnceAsync<T>(Func<DbConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await work(connection, cancellationToken);
    }

    public override async Task<T> WriteAsync<T>(
        Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (Exception exception) when (PostgresConnectionSettings.IsUnavailable(exception))
        {
            // A commit whose connection broke may or may not have happened; callers that retry rely on
            // idempotency (transaction ids, event ids), as after any lost response.
            throw Unavailable(exception);
        }
    }

    /// <summary>
    /// Claims the positions before the transaction (<see cref="PositionClaims"/>), on the same connection, so that appends
    /// of different rooms never wait for each other's commits.
    /// </summary>
    public override async Task<T> AppendEventsAsync<T>(
        int count, Func<DbConnection, DbTransaction, EventPositionLease, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        long? claimed = null;
        var committed = false;
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            // Not cancelled while waiting: a claim made for an append that gave up would hold readers back until reaped.
            claimed = await _claims.ClaimAsync(count, connection);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, transaction, new ClaimedPositionLease(connection, transaction, claimed.Value, count), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            committed = true;
            return result;
        }
        catch (Exception exception) when (PostgresConnectionSettings.IsUnavailable(exception))
        {
            throw Unavailable(exception);
        }
        finally
        {
            // After the transaction was rolled back (disposed): a commit that did happen on a broken connection has
            // already deleted the claim, and this deletes nothing.
            if (claimed is { } last && !committed) await PositionClaims.ReleaseAsync(dataSource, last - count + 1);
        }
    }

    public override Task<long> GetEventsPersistedUpToAsync(CancellationToken cancellationToken) =>
        ReadAsync(PositionClaims.PersistedUpToAsync, cancellationToken);

    private StoreUnavailableException Unavailable(Exception exception)
    {
        if (PostgresConnectionSettings.LostTheConnection(exception)) dataSource.Clear();
        return new StoreUnavailableException($"PostgreSQL is unavailable: {exception.Message}", exception);
    }

    public override string InSet(DbCommand command, string column, string parameterName, IReadOnlyCollection<string> values)
    {
        command.With(parameterName, values.ToArray());
        return $"{column} = ANY({parameterName})";
    }

    /// <summary>
    /// One statement with one array parameter per column: its text is the same for any number of rows (parsed and
    /// planned once per connection), and thousands of rows travel as a few binary arrays instead of one parameter each.
    /// </summary>
    public override Task InsertAsync(DbConnection connection, DbTransaction transaction, BulkRows rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return Task.CompletedTask;
        var command = connection.Command("", transaction);
        var arrays = rows.Columns.Select((column, c) =>
        {
            command.With($"@c{c}", ColumnArray(column, rows.Count));
            return $"@c{c}::{ArrayType(column.Type)}";
        });
        command.CommandText = $"INSERT INTO {rows.Table} ({rows.ColumnList}) SELECT * FROM unnest({string.Join(", ", arrays)})";
        return command.ExecuteAsync(cancellationToken);
    }

    private static Array ColumnArray(BulkColumn column, int count) => column.Type switch
    {
        BulkColumnType.Text => Fill<string?>(column, count),
        BulkColumnType.BigInt => Fill<long>(column, count),
        BulkColumnType.Boolean => Fill<bool>(column, count),
        BulkColumnType.Bytes => Fill<byte[]>(column, count),
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };

    private static T[] Fill<T>(BulkColumn column, int count)
    {
        var values = new T[count];
        for (var i = 0; i < count; i++) values[i] = (T)column.ValueAt(i)!;
        return values;
    }

    private static string ArrayType(BulkColumnType type) => type switch
    {
        BulkColumnType.Text => "text[]",
        BulkColumnType.BigInt => "bigint[]",
        BulkColumnType.Boolean => "boolean[]",
        BulkColumnType.Bytes => "bytea[]",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string LockRowsSkipLocked => "FOR UPDATE SKIP LOCKED";

    public override FullTextSql FullText { get; } = new FullTextSql.Postgres();

    public override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override bool IsForeignKeyViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation };

    public override string? MigrationLockSql => $"SELECT pg_advisory_xact_lock({MigrationLockKey})";

    public override IReadOnlyList<MigrationScript> Migrations => Scripts;

    public override async ValueTask DisposeAsync()
    {
        await _claims.DisposeAsync();
        if (ownsDataSource) await dataSource.DisposeAsync();
    }
}
