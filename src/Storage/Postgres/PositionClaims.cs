using System.Data.Common;
using HomeServer.Storage.Sql;
using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>
/// Global event positions for concurrent appends (ADR 0026). An append claims its positions in a one-statement
/// transaction of its own, before its write transaction: the counter row is locked only for that statement, not until
/// the append commits. Claims are made in position order (the counter row serialises them), so a snapshot that sees
/// the counter at V sees every claim up to V that has not been settled. Readers read up to the lowest open claim minus
/// one (<see cref="PersistedUpToAsync"/>); an append settles its claim by deleting it in the transaction that writes
/// its events, and releases it if that transaction fails. A claim whose connection is gone (its process died) or that
/// is very old is deleted by the next reader that finds it in the way; the append that owned it then cannot commit.
/// </summary>
internal static class PositionClaims
{
    private const string Stream = StreamPositions.Events;

    /// <summary>An open claim this old is only checked for a live owner; older than the limit it is reaped anyway.</summary>
    private static readonly TimeSpan CheckOwnerAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReapAnywayAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Claims positions for several appends in one statement (one transaction of its own, on <paramref name="connection"/>,
    /// which must not be in a transaction): the counter advances once by their sum and each append gets one claim row, in
    /// the order given, owned by its own backend. Returns each one's last position.
    /// </summary>
    public static async Task<long[]> ClaimGroupAsync(NpgsqlConnection connection, int[] counts, int[] backendPids)
    {
        // Asynchronous commit: the claims need no durability of their own. Each append's commit is synchronous and flushes
        // the log up to and past them; a claim lost in a crash belonged to an append that never committed.
        var lastPositions = await connection.Command(
                "WITH allocated AS (UPDATE stream_positions SET position = position + @total WHERE stream = @stream RETURNING position), " +
                "requests AS (SELECT r.count, r.pid, SUM(r.count) OVER (ORDER BY r.n) AS ends " +
                "FROM unnest(@counts::bigint[], @pids::integer[]) WITH ORDINALITY AS r(count, pid, n)) " +
                "INSERT INTO position_claims (stream, first_position, last_position, backend_pid, claimed_at) " +
                "SELECT @stream, a.position - @total + r.ends - r.count + 1, a.position - @total + r.ends, r.pid, clock_timestamp() " +
                "FROM allocated a, requests r, (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit " +
                "RETURNING last_position")
            .With("@total", counts.Sum(c => (long)c))
            .With("@counts", counts.Select(c => (long)c).ToArray())
            .With("@pids", backendPids)
            .With("@stream", Stream)
            .ListAsync(r => r.GetInt64(0), CancellationToken.None);
        // Claims are consecutive ranges in request order, so ascending last positions are the requests' in order.
        lastPositions.Sort();
        return [.. lastPositions];
    }

    /// <summary>Best effort, after a group claim failed: deletes whatever claims those appends' backends hold.</summary>
    public static Task ReleaseClaimsOfAsync(NpgsqlDataSource dataSource, int[] backendPids) =>
        DeleteClaimsAsync(dataSource, "backend_pid = ANY(@pids)", "@pids", backendPids);

    /// <summary>Best effort, after the append's transaction failed: an unreleased claim is reaped later.</summary>
    public static Task ReleaseAsync(NpgsqlDataSource dataSource, long firstPosition) =>
        DeleteClaimsAsync(dataSource, "first_position = @first", "@first", firstPosition);

    private static async Task DeleteClaimsAsync(NpgsqlDataSource dataSource, string condition, string parameter, object value)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            await connection.Command($"DELETE FROM position_claims WHERE stream = @stream AND {condition}")
                .With("@stream", Stream)
                .With(parameter, value)
                .ExecuteAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is DbException or OperationCanceledException or TimeoutException)
        {
        }
    }

    public static async Task<long> PersistedUpToAsync(DbConnection connection, CancellationToken ct)
    {
        var (upTo, oldestClaimAge) = await ReadAsync(connection, ct);
        if (oldestClaimAge < CheckOwnerAfter) return upTo;
        var reaped = await ReapAsync(connection, ct);
        return reaped == 0 ? upTo : (await ReadAsync(connection, ct)).UpTo;
    }

    /// <summary>One statement, so one snapshot: the counter and the open claims are read together.</summary>
    private static async Task<(long UpTo, TimeSpan OldestClaimAge)> ReadAsync(DbConnection connection, CancellationToken ct)
    {
        var rows = await connection.Command(
                "SELECT p.position, MIN(c.first_position), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - MIN(c.claimed_at)), 0)::float8 " +
                "FROM stream_positions p LEFT JOIN position_claims c ON c.stream = p.stream " +
                "WHERE p.stream = @stream GROUP BY p.position")
            .With("@stream", Stream)
            .ListAsync(r => (Allocated: r.GetInt64(0), LowestClaim: r.IsDBNull(1) ? (long?)null : r.GetInt64(1), Age: r.GetDouble(2)), ct);
        var row = rows.Single();
        var upTo = row.LowestClaim is { } lowest ? Math.Min(row.Allocated, lowest - 1) : row.Allocated;
        return (upTo, TimeSpan.FromSeconds(row.Age));
    }

    /// <summary>
    /// Deletes claims whose owner's connection is gone, or that are older than the limit. A claim its append is settling
    /// right now is locked by that append's transaction and skipped.
    /// </summary>
    private static Task<int> ReapAsync(DbConnection connection, CancellationToken ct) =>
        connection.Command(
                "DELETE FROM position_claims WHERE stream = @stream AND first_position IN (" +
                "SELECT c.first_position FROM position_claims c WHERE c.stream = @stream " +
                "AND c.claimed_at < clock_timestamp() - @checkAfter AND (c.claimed_at < clock_timestamp() - @reapAfter " +
                "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.backend_pid)) FOR UPDATE SKIP LOCKED)")
            .With("@stream", Stream)
            .With("@checkAfter", CheckOwnerAfter)
            .With("@reapAfter", ReapAnywayAfter)
            .ExecuteAsync(ct);
}

/// <summary>Settles the append's claim inside its transaction; fails the append when the claim was reaped meanwhile.</summary>
internal sealed class ClaimedPositionLease(DbConnection connection, DbTransaction transaction, long lastPosition, int count)
    : EventPositionLease(count)
{
    public override async Task<long> TakeAsync(CancellationToken ct)
    {
        var settled = await connection.Command(
                "DELETE FROM position_claims WHERE stream = @stream AND first_position = @first", transaction)
            .With("@stream", StreamPositions.Events)
            .With("@first", lastPosition - Count + 1)
            .ExecuteAsync(ct);
        // Readers may already have read past positions whose claim was reaped: writing them now would hide the events.
        if (settled != 1)
            throw new StoreUnavailableException("The append took too long and its event positions were given up; try again.");
        return lastPosition;
    }
}
