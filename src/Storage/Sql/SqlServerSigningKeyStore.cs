using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlServerSigningKeyStore(SqlDatabase db) : IServerSigningKeyStore
{
    private const int KeyBytes = 32;
    private const string Columns = "key_id, public_key, seed, created_ts, expired_ts";

    public async Task<ServerSigningKeyRecord> GetOrCreateCurrentAsync(NewServerSigningKey candidate, CancellationToken cancellationToken)
    {
        Validate(candidate);
        // The unique index on the current key turns a losing concurrent insert into no insert; on PostgreSQL it waits
        // for the winner's commit first, so the read that follows sees the winner.
        await db.WriteAsync((connection, transaction, ct) =>
            Insert(connection, transaction, candidate, "ON CONFLICT DO NOTHING").ExecuteAsync(ct), cancellationToken);
        return await db.ReadAsync((connection, ct) =>
                connection.Command($"SELECT {Columns} FROM server_signing_keys WHERE expired_ts IS NULL").SingleOrDefaultAsync(Read, ct),
            cancellationToken)
            ?? throw new InvalidOperationException("The current signing key vanished right after it was created.");
    }

    public async Task<IReadOnlyList<ServerSigningKeyRecord>> ListAsync(CancellationToken cancellationToken) =>
        await db.ReadAsync((connection, ct) =>
                connection.Command($"SELECT {Columns} FROM server_signing_keys ORDER BY created_ts, key_id").ListAsync(Read, ct),
            cancellationToken);

    public async Task<bool> RotateAsync(string currentKeyId, NewServerSigningKey next, long expiredTs, CancellationToken cancellationToken)
    {
        Guard.Identifier(currentKeyId, nameof(currentKeyId));
        Validate(next);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var expired = await connection.Command(
                    "UPDATE server_signing_keys SET expired_ts = @expired, seed = NULL WHERE key_id = @key AND expired_ts IS NULL",
                    transaction)
                .With("@expired", expiredTs)
                .With("@key", currentKeyId)
                .ExecuteAsync(ct);
            if (expired == 0) return false;
            await Insert(connection, transaction, next, "").ExecuteAsync(ct);
            return true;
        }, cancellationToken);
    }

    private static DbCommand Insert(DbConnection connection, DbTransaction transaction, NewServerSigningKey key, string onConflict) =>
        connection.Command(
                "INSERT INTO server_signing_keys (key_id, public_key, seed, created_ts, expired_ts) " +
                $"VALUES (@key, @public, @seed, @created, NULL) {onConflict}",
                transaction)
            .With("@key", key.KeyId)
            .With("@public", key.PublicKey)
            .With("@seed", key.Seed)
            .With("@created", key.CreatedTs);

    private static ServerSigningKeyRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetBytes(1), r.IsDBNull(2) ? null : r.GetBytes(2), r.GetInt64(3), r.GetNullableInt64(4));

    private static void Validate(NewServerSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Guard.Identifier(key.KeyId, nameof(key.KeyId));
        if (key.PublicKey is not { Length: KeyBytes }) throw new ArgumentException($"must be {KeyBytes} bytes", nameof(key.PublicKey));
        if (key.Seed is not { Length: KeyBytes }) throw new ArgumentException($"must be {KeyBytes} bytes", nameof(key.Seed));
    }
}
