using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlAccountDataStore(SqlDatabase db) : IAccountDataStore
{
    public async Task<long> SetAccountDataAsync(
        string userId, string? roomId, string dataType, byte[] content, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.OptionalIdentifier(roomId, nameof(roomId));
        Guard.Identifier(dataType, nameof(dataType));
        Guard.JsonObject(content, StoreLimits.MaxContentJsonBytes, nameof(content));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var position = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.AccountData, 1, ct);
            var command = roomId is null
                ? connection.Command(
                    "INSERT INTO global_account_data (user_id, data_type, content, stream_position) " +
                    "VALUES (@user, @type, @content, @position) ON CONFLICT (user_id, data_type) " +
                    "DO UPDATE SET content = excluded.content, stream_position = excluded.stream_position",
                    transaction)
                : connection.Command(
                    "INSERT INTO room_account_data (user_id, room_id, data_type, content, stream_position) " +
                    "VALUES (@user, @room, @type, @content, @position) ON CONFLICT (user_id, room_id, data_type) " +
                    "DO UPDATE SET content = excluded.content, stream_position = excluded.stream_position",
                    transaction).With("@room", roomId);
            try
            {
                await command
                    .With("@user", userId)
                    .With("@type", dataType)
                    .With("@content", content)
                    .With("@position", position)
                    .ExecuteAsync(ct);
            }
            catch (DbException e) when (db.IsForeignKeyViolation(e))
            {
                throw new EntityNotFoundException($"Account {userId} does not exist.", e);
            }
            return position;
        }, cancellationToken);
    }

    public async Task<AccountDataEntry?> GetAccountDataAsync(
        string userId, string? roomId, string dataType, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.OptionalIdentifier(roomId, nameof(roomId));
        Guard.Identifier(dataType, nameof(dataType));
        return await db.ReadAsync((connection, ct) =>
        {
            var command = roomId is null
                ? connection.Command(
                    "SELECT NULL, data_type, content, stream_position FROM global_account_data " +
                    "WHERE user_id = @user AND data_type = @type")
                : connection.Command(
                    "SELECT room_id, data_type, content, stream_position FROM room_account_data " +
                    "WHERE user_id = @user AND room_id = @room AND data_type = @type").With("@room", roomId);
            return command
                .With("@user", userId)
                .With("@type", dataType)
                .SingleOrDefaultAsync(ReadEntry, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<AccountDataEntry>> GetAccountDataChangesAsync(
        string userId, long sincePosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Position(sincePosition, nameof(sincePosition));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT NULL AS room_id, data_type, content, stream_position FROM global_account_data " +
                    "WHERE user_id = @user AND stream_position > @since " +
                    "UNION ALL " +
                    "SELECT room_id, data_type, content, stream_position FROM room_account_data " +
                    "WHERE user_id = @user AND stream_position > @since " +
                    "ORDER BY stream_position")
                .With("@user", userId)
                .With("@since", sincePosition)
                .ListAsync(ReadEntry, ct),
            cancellationToken);
    }

    public Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(db, StreamPositions.AccountData, cancellationToken);

    private static AccountDataEntry ReadEntry(DbDataReader reader) =>
        new(reader.GetNullableString(0), reader.GetString(1), reader.GetBytes(2), reader.GetInt64(3));
}
