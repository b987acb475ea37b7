using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlRoomStore(SqlDatabase db) : IRoomStore
{
    public async Task<bool> CreateRoomAsync(NewRoom room, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(room);
        Guard.Identifier(room.RoomId, nameof(room.RoomId));
        Guard.Identifier(room.RoomVersion, nameof(room.RoomVersion));
        Guard.Identifier(room.Creator, nameof(room.Creator));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "INSERT INTO rooms (room_id, room_version, creator, created_ts, is_published, last_position) " +
                    "VALUES (@room, @version, @creator, @created, @published, 0) ON CONFLICT (room_id) DO NOTHING",
                    transaction)
                .With("@room", room.RoomId)
                .With("@version", room.RoomVersion)
                .With("@creator", room.Creator)
                .With("@created", room.CreatedTs)
                .With("@published", room.Published)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<Room?> GetRoomAsync(string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command(
                    "SELECT room_id, room_version, creator, created_ts, is_published, last_position FROM rooms WHERE room_id = @room")
                .With("@room", roomId)
                .SingleOrDefaultAsync(ReadRoom, ct),
            cancellationToken);
    }

    public async Task<bool> SetPublishedAsync(string roomId, bool published, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command("UPDATE rooms SET is_published = @published WHERE room_id = @room", transaction)
                .With("@room", roomId)
                .With("@published", published)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetPublishedRoomsAsync(
        string? afterRoomId, int limit, CancellationToken cancellationToken)
    {
        Guard.OptionalIdentifier(afterRoomId, nameof(afterRoomId));
        Guard.Limit(limit, nameof(limit));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT room_id FROM rooms WHERE is_published = TRUE AND room_id > @after ORDER BY room_id LIMIT @limit")
                .With("@after", afterRoomId ?? "")
                .With("@limit", limit)
                .ListAsync(r => r.GetString(0), ct),
            cancellationToken);
    }

    public async Task SetForgottenAsync(string userId, string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(roomId, nameof(roomId));
        await db.WriteAsync(async (connection, transaction, ct) =>
        {
            try
            {
                return await connection.Command(
                        "INSERT INTO forgotten_rooms (user_id, room_id) VALUES (@user, @room) " +
                        "ON CONFLICT (user_id, room_id) DO NOTHING",
                        transaction)
                    .With("@user", userId)
                    .With("@room", roomId)
                    .ExecuteAsync(ct);
            }
            catch (DbException e) when (db.IsForeignKeyViolation(e))
            {
                throw new EntityNotFoundException($"Room {roomId} does not exist.", e);
            }
        }, cancellationToken);
    }

    public async Task<bool> IsForgottenAsync(string userId, string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(roomId, nameof(roomId));
        var rows = await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT 1 FROM forgotten_rooms WHERE user_id = @user AND room_id = @room")
                .With("@user", userId)
                .With("@room", roomId)
                .ListAsync(r => r.GetInt32(0), ct),
            cancellationToken);
        return rows.Count > 0;
    }

    public async Task<IReadOnlyList<string>> GetForgottenRoomsAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT room_id FROM forgotten_rooms WHERE user_id = @user ORDER BY room_id")
                .With("@user", userId)
                .ListAsync(r => r.GetString(0), ct),
            cancellationToken);
    }

    private static Room ReadRoom(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3),
        reader.GetBoolean(4),
        reader.GetInt64(5));
}
