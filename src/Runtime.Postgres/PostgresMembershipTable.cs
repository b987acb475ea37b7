using System.Data;
using System.Text.Json;
using HomeServer.Runtime.Membership;
using Npgsql;

namespace HomeServer.Runtime.Postgres;

/// <summary>
/// Cluster membership in PostgreSQL: one row per silo (keyed by cluster, host, port and generation) and one
/// version row per cluster. Inserts and updates run in a transaction that first bumps the version row only if
/// it still holds the expected version, so every status change is a compare-and-swap on the whole table.
/// </summary>
public sealed class PostgresMembershipTable : IMembershipTable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _clusterId;

    private Task? _schema;

    /// <summary>A table that creates its schema and the cluster's version row on first use.</summary>
    public PostgresMembershipTable(NpgsqlDataSource dataSource, string clusterId)
    {
        _dataSource = dataSource;
        _clusterId = clusterId;
    }

    /// <summary>Creates the tables if needed and the cluster's version row, then returns the table.</summary>
    public static async Task<PostgresMembershipTable> OpenAsync(NpgsqlDataSource dataSource, string clusterId, CancellationToken cancellationToken)
    {
        var table = new PostgresMembershipTable(dataSource, clusterId);
        await table.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return table;
    }

    private Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        var schema = Volatile.Read(ref _schema);
        if (schema is { IsCompletedSuccessfully: true }) return schema;
        if (schema is null || schema.IsFaulted || schema.IsCanceled)
        {
            var created = CreateSchemaAsync(cancellationToken);
            schema = Interlocked.CompareExchange(ref _schema, created, schema) == schema ? created : _schema!;
        }
        return schema;
    }

    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using (var command = _dataSource.CreateCommand(Schema))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var command = _dataSource.CreateCommand(
            "INSERT INTO cluster_membership_version (cluster_id, version) VALUES ($1, 0) ON CONFLICT DO NOTHING"))
        {
            command.Parameters.AddWithValue(_clusterId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // Concurrent silos may create the schema at the same moment: the advisory lock serialises them.
    private const string Schema = """
        SELECT pg_advisory_xact_lock(7301);
        CREATE TABLE IF NOT EXISTS cluster_membership_version (
            cluster_id text PRIMARY KEY,
            version bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS cluster_membership (
            cluster_id text NOT NULL,
            host text NOT NULL,
            port integer NOT NULL,
            generation bigint NOT NULL,
            silo_name text NOT NULL,
            status integer NOT NULL,
            start_time timestamptz NOT NULL,
            i_am_alive_time timestamptz NOT NULL,
            suspect_votes jsonb NOT NULL DEFAULT '[]',
            is_gateway boolean NOT NULL DEFAULT true,
            PRIMARY KEY (cluster_id, host, port, generation));
        """;

    public async Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        long version;
        await using (var command = new NpgsqlCommand("SELECT version FROM cluster_membership_version WHERE cluster_id = $1", connection, transaction))
        {
            command.Parameters.AddWithValue(_clusterId);
            version = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
        }
        var entries = new List<MembershipEntry>();
        await using (var command = new NpgsqlCommand(
            "SELECT host, port, generation, silo_name, status, start_time, i_am_alive_time, suspect_votes::text, is_gateway " +
            "FROM cluster_membership WHERE cluster_id = $1", connection, transaction))
        {
            command.Parameters.AddWithValue(_clusterId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new MembershipEntry(
                    new SiloAddress(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)),
                    reader.GetString(3),
                    (SiloStatus)reader.GetInt32(4),
                    reader.GetFieldValue<DateTimeOffset>(5),
                    reader.GetFieldValue<DateTimeOffset>(6),
                    DecodeVotes(reader.GetString(7)))
                { IsGateway = reader.GetBoolean(8) });
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new MembershipSnapshot(entries, version);
    }

    public Task<bool> TryInsertAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken) =>
        WriteIfVersionAsync(expectedVersion, """
            INSERT INTO cluster_membership (cluster_id, host, port, generation, silo_name, status, start_time, i_am_alive_time, suspect_votes, is_gateway)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10) ON CONFLICT DO NOTHING
            """, entry, cancellationToken);

    public Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken) =>
        WriteIfVersionAsync(expectedVersion, """
            UPDATE cluster_membership SET silo_name = $5, status = $6, start_time = $7, i_am_alive_time = $8, suspect_votes = $9::jsonb, is_gateway = $10
            WHERE cluster_id = $1 AND host = $2 AND port = $3 AND generation = $4
            """, entry, cancellationToken);

    private async Task<bool> WriteIfVersionAsync(long expectedVersion, string sql, MembershipEntry entry, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var bump = new NpgsqlCommand(
            "UPDATE cluster_membership_version SET version = version + 1 WHERE cluster_id = $1 AND version = $2", connection, transaction))
        {
            bump.Parameters.AddWithValue(_clusterId);
            bump.Parameters.AddWithValue(expectedVersion);
            if (await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1) return false;
        }
        await using (var write = new NpgsqlCommand(sql, connection, transaction))
        {
            write.Parameters.AddWithValue(_clusterId);
            write.Parameters.AddWithValue(entry.Address.Host);
            write.Parameters.AddWithValue(entry.Address.Port);
            write.Parameters.AddWithValue(entry.Address.Generation);
            write.Parameters.AddWithValue(entry.SiloName);
            write.Parameters.AddWithValue((int)entry.Status);
            write.Parameters.AddWithValue(entry.StartTime);
            write.Parameters.AddWithValue(entry.IAmAliveTime);
            write.Parameters.AddWithValue(EncodeVotes(entry.SuspectVotes));
            write.Parameters.AddWithValue(entry.IsGateway);
            if (await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1) return false;
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task HeartbeatAsync(SiloAddress address, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(
            "UPDATE cluster_membership SET i_am_alive_time = $5 WHERE cluster_id = $1 AND host = $2 AND port = $3 AND generation = $4");
        command.Parameters.AddWithValue(_clusterId);
        command.Parameters.AddWithValue(address.Host);
        command.Parameters.AddWithValue(address.Port);
        command.Parameters.AddWithValue(address.Generation);
        command.Parameters.AddWithValue(now);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> CleanupDefunctAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(
            "DELETE FROM cluster_membership WHERE cluster_id = $1 AND status <> $2 AND i_am_alive_time < $3");
        command.Parameters.AddWithValue(_clusterId);
        command.Parameters.AddWithValue((int)SiloStatus.Active);
        command.Parameters.AddWithValue(cutoff);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed record VoteRow(string Voter, DateTimeOffset At);

    private static string EncodeVotes(IReadOnlyList<SuspectVote> votes) =>
        JsonSerializer.Serialize(votes.Select(v => new VoteRow(v.Voter.ToString(), v.At)).ToArray());

    private static IReadOnlyList<SuspectVote> DecodeVotes(string json) =>
        (JsonSerializer.Deserialize<VoteRow[]>(json) ?? []).Select(v => new SuspectVote(SiloAddress.Parse(v.Voter), v.At)).ToArray();
}
