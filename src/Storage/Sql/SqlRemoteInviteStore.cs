using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlRemoteInviteStore(SqlDatabase db) : IRemoteInviteStore
{
    private const string Columns = "user_id, room_id, event_id, room_version, membership, invite_event, leave_event, stream_position";

    public async Task<long> SaveInviteAsync(RemoteInvite invite, CancellationToken cancellationToken)
    {
        Guard.Identifier(invite.UserId, nameof(invite.UserId));
        Guard.Identifier(invite.RoomId, nameof(invite.RoomId));
        Guard.Identifier(invite.EventId, nameof(invite.EventId));
        if (invite.Membership is not ("invite" or "knock"))
            throw new ArgumentException("A remote invite is kept as 'invite' or a knock as 'knock'.", nameof(invite));
        // The event with the stripped state the inviting server sent in its unsigned data.
        Guard.JsonObject(invite.InviteEvent, 4 * StoreLimits.MaxEventJsonBytes, nameof(invite.InviteEvent));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var existing = await connection.Command(
                    "SELECT stream_position FROM remote_invites WHERE user_id = @user AND room_id = @room AND event_id = @event AND membership = @membership",
                    transaction)
                .With("@user", invite.UserId).With("@room", invite.RoomId).With("@event", invite.EventId).With("@membership", invite.Membership)
                .ListAsync(reader => reader.GetInt64(0), ct);
            if (existing.Count > 0) return existing[0];
            var position = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.AccountData, 1, ct);
            await connection.Command(
                    $"INSERT INTO remote_invites ({Columns}) VALUES (@user, @room, @event, @version, @membership, @invite, NULL, @position) " +
                    "ON CONFLICT (user_id, room_id) DO UPDATE SET event_id = excluded.event_id, room_version = excluded.room_version, " +
                    "membership = excluded.membership, invite_event = excluded.invite_event, leave_event = NULL, stream_position = excluded.stream_position",
                    transaction)
                .With("@user", invite.UserId).With("@room", invite.RoomId).With("@event", invite.EventId)
                .With("@version", invite.RoomVersion).With("@membership", invite.Membership).With("@invite", invite.InviteEvent).With("@position", position)
                .ExecuteAsync(ct);
            return position;
        }, cancellationToken);
    }

    public async Task<long?> SaveRejectionAsync(string userId, string roomId, string inviteEventId, byte[] leaveEvent, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(roomId, nameof(roomId));
        Guard.JsonObject(leaveEvent, StoreLimits.MaxEventJsonBytes, nameof(leaveEvent));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var pending = await connection.Command(
                    "SELECT COUNT(*) FROM remote_invites WHERE user_id = @user AND room_id = @room AND event_id = @event AND membership IN ('invite', 'knock')",
                    transaction)
                .With("@user", userId).With("@room", roomId).With("@event", inviteEventId)
                .ScalarAsync<long>(ct);
            if (pending == 0) return (long?)null;
            var position = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.AccountData, 1, ct);
            await connection.Command(
                    "UPDATE remote_invites SET membership = 'leave', leave_event = @leave, stream_position = @position " +
                    "WHERE user_id = @user AND room_id = @room",
                    transaction)
                .With("@user", userId).With("@room", roomId).With("@leave", leaveEvent).With("@position", position)
                .ExecuteAsync(ct);
            return position;
        }, cancellationToken);
    }

    public async Task<RemoteInvite?> GetAsync(string userId, string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {Columns} FROM remote_invites WHERE user_id = @user AND room_id = @room")
                .With("@user", userId).With("@room", roomId)
                .SingleOrDefaultAsync(Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<RemoteInvite>> GetOfUserAsync(string userId, long after, long upTo, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {Columns} FROM remote_invites WHERE user_id = @user AND stream_position > @after AND stream_position <= @upTo " +
                    "ORDER BY stream_position")
                .With("@user", userId).With("@after", after).With("@upTo", upTo)
                .ListAsync(Read, ct),
            cancellationToken);
    }

    private static RemoteInvite Read(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.GetBytes(5), reader.IsDBNull(6) ? null : reader.GetBytes(6), reader.GetInt64(7));
}
