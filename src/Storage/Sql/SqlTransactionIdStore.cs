namespace HomeServer.Storage.Sql;

internal sealed class SqlTransactionIdStore(SqlDatabase db) : ITransactionIdStore
{
    public async Task<string?> FindEventIdAsync(
        string roomId, string userId, string deviceId, string transactionId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        Guard.Identifier(transactionId, nameof(transactionId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command(
                    "SELECT event_id FROM event_transactions " +
                    "WHERE room_id = @room AND user_id = @user AND device_id = @device AND txn_id = @txn")
                .With("@room", roomId)
                .With("@user", userId)
                .With("@device", deviceId)
                .With("@txn", transactionId)
                .ScalarAsync<string>(ct),
            cancellationToken);
    }

    public async Task<int> PruneAsync(long olderThanTs, CancellationToken cancellationToken) =>
        await db.WriteAsync(
            async (connection, transaction, ct) =>
                await connection.Command("DELETE FROM event_transactions WHERE created_ts < @before", transaction)
                    .With("@before", olderThanTs)
                    .ExecuteAsync(ct)
                + await connection.Command("DELETE FROM to_device_transactions WHERE created_ts < @before", transaction)
                    .With("@before", olderThanTs)
                    .ExecuteAsync(ct),
            cancellationToken);
}
