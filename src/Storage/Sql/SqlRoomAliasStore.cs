using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlRoomAliasStore(SqlDatabase db) : IRoomAliasStore
{
    public async Task<bool> CreateAliasAsync(RoomAlias alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        Guard.Identifier(alias.Alias, nameof(alias.Alias));
        Guard.Identifier(alias.RoomId, nameof(alias.RoomId));
        Guard.Identifier(alias.Creator, nameof(alias.Creator));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            try
            {
                return await connection.Command(
                        "INSERT INTO room_aliases (alias, room_id, creator) VALUES (@alias, @room, @creator) " +
                        "ON CONFLICT (alias) DO NOTHING",
                        transaction)
                    .With("@alias", alias.Alias)
                    .With("@room", alias.RoomId)
                    .With("@creator", alias.Creator)
                    .ExecuteAsync(ct) == 1;
            }
            catch (DbException e) when (db.IsForeignKeyViolation(e))
            {
                throw new EntityNotFoundException($"Room {alias.RoomId} does not exist.", e);
            }
        }, cancellationToken);
    }

    public async Task<RoomAlias?> GetAliasAsync(string alias, CancellationToken cancellationToken)
    {
        Guard.Identifier(alias, nameof(alias));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT alias, room_id, creator FROM room_aliases WHERE alias = @alias")
                .With("@alias", alias)
                .SingleOrDefaultAsync(r => new RoomAlias(r.GetString(0), r.GetString(1), r.GetString(2)), ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetAliasesOfRoomAsync(string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command("SELECT alias FROM room_aliases WHERE room_id = @room ORDER BY alias")
                .With("@room", roomId)
                .ListAsync(r => r.GetString(0), ct),
            cancellationToken);
    }

    public async Task<bool> DeleteAliasAsync(string alias, CancellationToken cancellationToken)
    {
        Guard.Identifier(alias, nameof(alias));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command("DELETE FROM room_aliases WHERE alias = @alias", transaction)
                .With("@alias", alias)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<int> MoveAliasesAsync(string fromRoomId, string toRoomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(fromRoomId, nameof(fromRoomId));
        Guard.Identifier(toRoomId, nameof(toRoomId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command("UPDATE room_aliases SET room_id = @to WHERE room_id = @from", transaction)
                .With("@from", fromRoomId)
                .With("@to", toRoomId)
                .ExecuteAsync(ct),
            cancellationToken);
    }
}
