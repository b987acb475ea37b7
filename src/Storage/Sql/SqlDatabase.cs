using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>
/// What differs between the backends: how connections and write transactions are obtained, a few
/// dialect fragments, error classification and the migration scripts. All queries live in the
/// Sql*Store classes and are shared.
/// </summary>
internal abstract class SqlDatabase : IAsyncDisposable
{
    /// <summary>Runs read-only work on a connection of its own.</summary>
    public abstract Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>Runs work inside one write transaction; commits when it returns, rolls back when it throws.</summary>
    public abstract Task<T> WriteAsync<T>(
        Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// Runs work inside one write transaction that appends <paramref name="count"/> events; the work takes their global
    /// positions from the lease once it holds its other locks. By default from the counter row (one writer at a time).
    /// </summary>
    public virtual Task<T> AppendEventsAsync<T>(
        int count, Func<DbConnection, DbTransaction, EventPositionLease, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, ct) => work(connection, transaction, new CounterRowLease(connection, transaction, count), ct), cancellationToken);

    /// <summary>
    /// The global event position up to which every event is persisted or will never be: readers never read past it.
    /// With the counter row allocated inside each append's transaction, the counter itself.
    /// </summary>
    public virtual Task<long> GetEventsPersistedUpToAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(this, StreamPositions.Events, cancellationToken);

    /// <summary>A condition "column is one of values", binding the values to a parameter of the command.</summary>
    public abstract string InSet(DbCommand command, string column, string parameterName, IReadOnlyCollection<string> values);

    /// <summary>
    /// Appended to a SELECT whose rows the transaction will delete or change: locks them and skips rows another
    /// transaction holds (PostgreSQL); empty on SQLite, whose single writer already excludes others.
    /// </summary>
    public abstract string LockRowsSkipLocked { get; }

    /// <summary>Inserts the rows inside the transaction; a duplicate key fails it as a whole.</summary>
    public virtual async Task InsertAsync(DbConnection connection, DbTransaction transaction, BulkRows rows, CancellationToken cancellationToken)
    {
        foreach (var command in rows.AsValuesLists(connection, transaction))
        {
            await command.ExecuteAsync(cancellationToken);
        }
    }

    /// <summary>The event search index's dialect.</summary>
    public abstract FullTextSql FullText { get; }

    public abstract bool IsUniqueViolation(DbException exception);

    public abstract bool IsForeignKeyViolation(DbException exception);

    /// <summary>Run first in the migration transaction so that concurrent starters apply migrations one at a time.</summary>
    public abstract string? MigrationLockSql { get; }

    public abstract IReadOnlyList<MigrationScript> Migrations { get; }

    public abstract ValueTask DisposeAsync();
}
