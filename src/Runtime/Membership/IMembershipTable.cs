namespace HomeServer.Runtime.Membership;

/// <summary>
/// Storage of cluster membership, shaped so that a PostgreSQL table can implement it: rows keyed by silo
/// address and generation, and one table version. Every insert or update is a compare-and-swap on that
/// version: it applies only if the table is still at <c>expectedVersion</c>, and then bumps it by one.
/// Heartbeats are unconditional and do not bump the version.
/// </summary>
public interface IMembershipTable
{
    Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Adds a row. False if the version moved or the row exists.</summary>
    Task<bool> TryInsertAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>Replaces a row (status, votes). False if the version moved or the row is missing.</summary>
    Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>Records that the silo is alive now. Unconditional; does not change the version.</summary>
    Task HeartbeatAsync(SiloAddress address, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes rows that are not Active and whose last heartbeat is older than <paramref name="cutoff"/>.</summary>
    Task<int> CleanupDefunctAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
