using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlToDeviceStore(SqlDatabase db) : IToDeviceStore
{
    public async Task<ToDeviceEnqueueResult> EnqueueAsync(NewToDeviceSend send, CancellationToken cancellationToken)
    {
        Validate(send);
        try
        {
            return await db.WriteAsync(async (connection, transaction, ct) =>
            {
                if (await FindTransactionAsync(connection, transaction, send, ct) is var existing and > 0)
                    return new ToDeviceEnqueueResult(existing, Duplicate: true, Stored: 0);
                var position = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.ToDevice, 1, ct);
                await connection.Command(
                        "INSERT INTO to_device_transactions (user_id, device_id, txn_id, stream_position, created_ts) " +
                        "VALUES (@user, @device, @txn, @position, @created)",
                        transaction)
                    .With("@user", send.Sender)
                    .With("@device", send.SenderDeviceId)
                    .With("@txn", send.TransactionId)
                    .With("@position", position)
                    .With("@created", send.CreatedTs)
                    .ExecuteAsync(ct);
                var stored = 0;
                // Messages addressed by device id first: "all devices" then skips the devices that already got one.
                var ordered = send.Messages.Where(m => m.DeviceId is not null).Concat(send.Messages.Where(m => m.DeviceId is null)).ToList();
                foreach (var chunk in ordered.Chunk(InsertChunk))
                {
                    stored += await InsertAsync(connection, transaction, send, position, chunk, ct);
                }
                return new ToDeviceEnqueueResult(position, Duplicate: false, stored);
            }, cancellationToken);
        }
        catch (DbException e) when (db.IsUniqueViolation(e))
        {
            // The same transaction id committed by a concurrent call between our check and our insert.
            var existing = await db.ReadAsync((connection, ct) => FindTransactionAsync(connection, null, send, ct), cancellationToken);
            if (existing == 0) throw new InvalidOperationException("A to-device transaction id conflicted but cannot be found.", e);
            return new ToDeviceEnqueueResult(existing, Duplicate: true, Stored: 0);
        }
    }

    /// <summary>Recipients inserted by one statement (four parameters each).</summary>
    private const int InsertChunk = 250;

    /// <summary>
    /// One statement for many recipients: each (user, device or all devices) joined with the user's current devices,
    /// so unknown users and devices insert nothing.
    /// </summary>
    private static Task<int> InsertAsync(
        DbConnection connection, DbTransaction transaction, NewToDeviceSend send, long position, ToDeviceRecipient[] recipients, CancellationToken ct)
    {
        var command = connection.Command("", transaction)
            .With("@position", position)
            .With("@sender", send.Sender)
            .With("@type", send.EventType);
        var rows = new List<string>(recipients.Length);
        for (var i = 0; i < recipients.Length; i++)
        {
            rows.Add($"(@u{i}, @d{i}, @c{i}, @a{i})");
            command.With($"@u{i}", recipients[i].UserId)
                .With($"@d{i}", recipients[i].DeviceId ?? "")
                .With($"@c{i}", recipients[i].Content)
                .With($"@a{i}", recipients[i].DeviceId is null ? 1 : 0);
        }
        // VALUES columns are column1.. in both databases; WHERE true keeps SQLite's upsert parser from reading the
        // join's ON as the conflict clause.
        command.CommandText =
            "INSERT INTO device_inbox (user_id, device_id, stream_position, sender, event_type, content) " +
            "SELECT d.user_id, d.device_id, @position, @sender, @type, m.column3 " +
            $"FROM (VALUES {string.Join(", ", rows)}) AS m " +
            "JOIN devices d ON d.user_id = m.column1 AND (m.column4 = 1 OR d.device_id = m.column2) " +
            "WHERE true ORDER BY m.column4 " +
            "ON CONFLICT (user_id, device_id, stream_position) DO NOTHING";
        return command.ExecuteAsync(ct);
    }

    public async Task<IReadOnlyList<ToDeviceMessage>> GetMessagesAsync(
        string userId, string deviceId, long afterPosition, long upToPosition, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        Guard.Position(afterPosition, nameof(afterPosition));
        Guard.Position(upToPosition, nameof(upToPosition));
        Guard.Limit(limit, nameof(limit));
        if (upToPosition <= afterPosition) return [];
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT stream_position, sender, event_type, content FROM device_inbox " +
                    "WHERE user_id = @user AND device_id = @device AND stream_position > @after AND stream_position <= @upto " +
                    "ORDER BY stream_position LIMIT @limit")
                .With("@user", userId)
                .With("@device", deviceId)
                .With("@after", afterPosition)
                .With("@upto", upToPosition)
                .With("@limit", (long)limit)
                .ListAsync(ReadMessage, ct),
            cancellationToken);
    }

    public async Task<int> DeleteMessagesAsync(string userId, string deviceId, long upToPosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        Guard.Position(upToPosition, nameof(upToPosition));
        return await db.WriteAsync((connection, transaction, ct) =>
            connection.Command(
                    "DELETE FROM device_inbox WHERE user_id = @user AND device_id = @device AND stream_position <= @upto", transaction)
                .With("@user", userId)
                .With("@device", deviceId)
                .With("@upto", upToPosition)
                .ExecuteAsync(ct),
            cancellationToken);
    }

    public async Task<int> DeleteDeviceInboxAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.WriteAsync((connection, transaction, ct) =>
            connection.Command("DELETE FROM device_inbox WHERE user_id = @user AND device_id = @device", transaction)
                .With("@user", userId)
                .With("@device", deviceId)
                .ExecuteAsync(ct),
            cancellationToken);
    }

    public async Task<int> DeleteUserInboxesAsync(string userId, string? exceptDeviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.OptionalIdentifier(exceptDeviceId, nameof(exceptDeviceId));
        return await db.WriteAsync((connection, transaction, ct) =>
        {
            var command = connection.Command(
                    "DELETE FROM device_inbox WHERE user_id = @user" + (exceptDeviceId is null ? "" : " AND device_id <> @except"), transaction)
                .With("@user", userId);
            if (exceptDeviceId is not null) command.With("@except", exceptDeviceId);
            return command.ExecuteAsync(ct);
        }, cancellationToken);
    }

    public Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(db, StreamPositions.ToDevice, cancellationToken);

    private static void Validate(NewToDeviceSend send)
    {
        ArgumentNullException.ThrowIfNull(send);
        Guard.Identifier(send.Sender, nameof(send.Sender));
        Guard.Identifier(send.SenderDeviceId, nameof(send.SenderDeviceId));
        Guard.Identifier(send.TransactionId, nameof(send.TransactionId));
        Guard.Identifier(send.EventType, nameof(send.EventType));
        Guard.Position(send.CreatedTs, nameof(send.CreatedTs));
        ArgumentNullException.ThrowIfNull(send.Messages, nameof(send.Messages));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(send.Messages.Count, StoreLimits.MaxToDeviceRecipientsPerSend, nameof(send.Messages));
        var recipients = new HashSet<(string, string?)>();
        foreach (var message in send.Messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(send.Messages));
            Guard.Identifier(message.UserId, nameof(message.UserId));
            Guard.OptionalIdentifier(message.DeviceId, nameof(message.DeviceId));
            Guard.JsonObject(message.Content, StoreLimits.MaxContentJsonBytes, nameof(message.Content));
            if (!recipients.Add((message.UserId, message.DeviceId)))
                throw new ArgumentException($"{message.UserId} {message.DeviceId ?? "(all devices)"} is addressed twice", nameof(send.Messages));
        }
    }

    /// <summary>The position of the send with this transaction id, 0 when none (positions start at 1).</summary>
    private static Task<long> FindTransactionAsync(DbConnection connection, DbTransaction? transaction, NewToDeviceSend send, CancellationToken ct) =>
        connection.Command(
                "SELECT stream_position FROM to_device_transactions WHERE user_id = @user AND device_id = @device AND txn_id = @txn",
                transaction)
            .With("@user", send.Sender)
            .With("@device", send.SenderDeviceId)
            .With("@txn", send.TransactionId)
            .ScalarAsync<long>(ct);

    private static ToDeviceMessage ReadMessage(DbDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetBytes(3));
}
