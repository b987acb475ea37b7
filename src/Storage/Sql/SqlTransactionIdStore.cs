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

    public async Task<IReadOnlyDictionary<string, string>> GetTransactionIdsAsync(
        string roomId, string userId, string deviceId, IReadOnlyCollection<string> eventIds, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        ArgumentNullException.ThrowIfNull(eventIds);
        foreach (var eventId in eventIds) Guard.Identifier(eventId, nameof(eventIds));
        if (eventIds.Count == 0) return new Dictionary<string, string>();
        var rows = await db.ReadAsync(async (connection, ct) =>
        {
            // The primary key's (room, user, device) prefix narrows this to one device's recent sends in the room.
            var command = connection.Command("");
            command.CommandText =
                "SELECT event_id, txn_id FROM event_transactions " +
                $"WHERE room_id = @room AND user_id = @user AND device_id = @device AND {db.InSet(command, "event_id", "@events", eventIds)}";
            return await command
                .With("@room", roomId)
                .With("@user", userId)
                .With("@device", deviceId)
                .ListAsync(reader => (EventId: reader.GetString(0), TransactionId: reader.GetString(1)), ct);
        }, cancellationToken);
        return rows.ToDictionary(row => row.EventId, row => row.TransactionId, StringComparer.Ordinal);
    }

    public async Task<int> PruneAsync(long olderThanTs, CancellationToken cancellationToken) =>
        await db.WriteAsync(
            (connection, transaction, ct) =>
                connection.Command("DELETE FROM event_transactions WHERE created_ts < @before", transaction)
                    .With("@before", olderThanTs)
                    .ExecuteAsync(ct),
            cancellationToken);
}
