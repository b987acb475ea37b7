namespace HomeServer.Storage.Sql;

internal sealed class SqlOpenIdTokenStore(SqlDatabase db) : IOpenIdTokenStore
{
    public async Task<bool> CreateAsync(string userId, string token, long expiresTs, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Text(token, StoreLimits.MaxAccessTokenBytes, nameof(token));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            if (!await SqlAccountStore.LockAccountAsync(connection, transaction, userId, activeOnly: true, ct)) return false;
            // Each new token clears the user's expired ones, so the table holds only live tokens and a few stale ones.
            await connection.Command("DELETE FROM openid_tokens WHERE user_id = @user AND expires_ts <= @now", transaction)
                .With("@user", userId)
                .With("@now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
                .ExecuteAsync(ct);
            await connection.Command("INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES (@hash, @user, @expires)", transaction)
                .With("@hash", SqlDeviceStore.HashToken(token))
                .With("@user", userId)
                .With("@expires", expiresTs)
                .ExecuteAsync(ct);
            return true;
        }, cancellationToken);
    }

    public async Task<string?> FindUserAsync(string token, long now, CancellationToken cancellationToken)
    {
        Guard.Text(token, StoreLimits.MaxAccessTokenBytes, nameof(token));
        var hash = SqlDeviceStore.HashToken(token);
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT o.user_id FROM openid_tokens o JOIN accounts a ON a.user_id = o.user_id " +
                    "WHERE o.token_hash = @hash AND o.expires_ts > @now AND a.deactivated = FALSE")
                .With("@hash", hash)
                .With("@now", now)
                .SingleOrDefaultAsync(r => r.GetString(0), ct),
            cancellationToken);
    }
}
