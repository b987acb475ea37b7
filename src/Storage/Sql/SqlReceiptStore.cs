using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlReceiptStore(SqlDatabase db) : IReceiptStore
{
    private const string Columns = "room_id, receipt_type, user_id, event_id, ts, data, stream_position";
    private const string InsertColumns = Columns + ", thread_id";

    public async Task<long> SetReceiptAsync(NewReceipt receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        Guard.Identifier(receipt.RoomId, nameof(receipt.RoomId));
        Guard.Identifier(receipt.ReceiptType, nameof(receipt.ReceiptType));
        Guard.Identifier(receipt.UserId, nameof(receipt.UserId));
        Guard.Identifier(receipt.EventId, nameof(receipt.EventId));
        Guard.OptionalIdentifier(receipt.ThreadId, nameof(receipt.ThreadId));
        Guard.JsonObject(receipt.Data, StoreLimits.MaxContentJsonBytes, nameof(receipt.Data));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var position = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.Receipts, 1, ct);
            try
            {
                await connection.Command(
                        $"INSERT INTO receipts ({InsertColumns}) VALUES (@room, @type, @user, @event, @ts, @data, @position, @thread) " +
                        "ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET event_id = excluded.event_id, " +
                        "ts = excluded.ts, data = excluded.data, stream_position = excluded.stream_position",
                        transaction)
                    .With("@room", receipt.RoomId)
                    .With("@type", receipt.ReceiptType)
                    .With("@user", receipt.UserId)
                    .With("@event", receipt.EventId)
                    .With("@ts", receipt.Ts)
                    .With("@data", receipt.Data)
                    .With("@position", position)
                    .With("@thread", receipt.ThreadId ?? "")
                    .ExecuteAsync(ct);
            }
            catch (DbException e) when (db.IsForeignKeyViolation(e))
            {
                throw new EntityNotFoundException($"Room {receipt.RoomId} does not exist.", e);
            }
            return position;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<Receipt>> GetReceiptsAsync(string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command($"SELECT {Columns} FROM receipts WHERE room_id = @room ORDER BY receipt_type, user_id, thread_id")
                .With("@room", roomId)
                .ListAsync(ReadReceipt, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<Receipt>> GetReceiptChangesAsync(
        IReadOnlyCollection<string> roomIds, long sincePosition, int limit, CancellationToken cancellationToken)
    {
        Guard.RoomIds(roomIds, nameof(roomIds));
        Guard.Position(sincePosition, nameof(sincePosition));
        Guard.Limit(limit, nameof(limit));
        if (roomIds.Count == 0)
        {
            return [];
        }
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                $"SELECT {Columns} FROM receipts WHERE {db.InSet(command, "room_id", "@rooms", roomIds)} " +
                "AND stream_position > @since ORDER BY stream_position LIMIT @limit";
            return await command
                .With("@since", sincePosition)
                .With("@limit", limit)
                .ListAsync(ReadReceipt, ct);
        }, cancellationToken);
    }

    public Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(db, StreamPositions.Receipts, cancellationToken);

    private static Receipt ReadReceipt(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetInt64(4),
        reader.GetBytes(5),
        reader.GetInt64(6));
}
