using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>
/// The global positions of one append. Taken inside the append's transaction once it holds its room fence, so that on
/// the counter-row path the global lock is the last lock taken and is held briefly.
/// </summary>
internal abstract class EventPositionLease(int count)
{
    public int Count { get; } = count;

    /// <summary>Returns the last of the append's positions; the first is last - <see cref="Count"/> + 1.</summary>
    public abstract Task<long> TakeAsync(CancellationToken ct);
}

/// <summary>
/// Allocates from the counter row inside the transaction: the row stays locked until commit, so appends commit in
/// position order. The path of a store with one writer (SQLite), where nothing waits on that lock but the queue.
/// </summary>
internal sealed class CounterRowLease(DbConnection connection, DbTransaction transaction, int count) : EventPositionLease(count)
{
    public override Task<long> TakeAsync(CancellationToken ct) =>
        StreamPositions.AllocateAsync(connection, transaction, StreamPositions.Events, Count, ct);
}
