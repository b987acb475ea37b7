namespace HomeServer.Storage.Sql;

internal sealed class SqlFilterStore(SqlDatabase db) : IFilterStore
{
    public async Task<long> CreateFilterAsync(string userId, byte[] filterJson, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.JsonObject(filterJson, StoreLimits.MaxContentJsonBytes, nameof(filterJson));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            // The account lock serializes creates of one user, so the next id below cannot be taken twice.
            if (!await SqlAccountStore.LockAccountAsync(connection, transaction, userId, activeOnly: false, ct))
            {
                throw new EntityNotFoundException($"Account {userId} does not exist.");
            }
            return await connection.Command(
                    "INSERT INTO filters (user_id, filter_id, json) " +
                    "SELECT @user, COALESCE(MAX(filter_id) + 1, 0), @json FROM filters WHERE user_id = @user " +
                    "RETURNING filter_id",
                    transaction)
                .With("@user", userId)
                .With("@json", filterJson)
                .ScalarAsync<long>(ct);
        }, cancellationToken);
    }

    public async Task<byte[]?> GetFilterAsync(string userId, long filterId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT json FROM filters WHERE user_id = @user AND filter_id = @id")
                .With("@user", userId)
                .With("@id", filterId)
                .ScalarAsync<byte[]>(ct),
            cancellationToken);
    }
}
