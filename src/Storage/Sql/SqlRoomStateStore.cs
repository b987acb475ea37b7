namespace HomeServer.Storage.Sql;

internal sealed class SqlRoomStateStore(SqlDatabase db) : IRoomStateStore
{
    public async Task<IReadOnlyList<StoredEvent>> GetCurrentStateAsync(string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {EventRows.Columns} FROM current_state s JOIN events e ON e.event_id = s.event_id " +
                    "WHERE s.room_id = @room ORDER BY s.event_type, s.state_key")
                .With("@room", roomId)
                .ListAsync(EventRows.Read, ct),
            cancellationToken);
    }

    public async Task<StoredEvent?> GetStateEventAsync(
        string roomId, string eventType, string stateKey, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Identifier(eventType, nameof(eventType));
        ArgumentNullException.ThrowIfNull(stateKey);
        Guard.OptionalText(stateKey, StoreLimits.MaxIdentifierBytes, nameof(stateKey));
        return await db.ReadAsync((connection, ct) =>
            connection.Command(
                    $"SELECT {EventRows.Columns} FROM current_state s JOIN events e ON e.event_id = s.event_id " +
                    "WHERE s.room_id = @room AND s.event_type = @type AND s.state_key = @key")
                .With("@room", roomId)
                .With("@type", eventType)
                .With("@key", stateKey)
                .SingleOrDefaultAsync(EventRows.Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<MembershipEntry>> GetRoomsOfUserAsync(
        string userId, IReadOnlyCollection<string>? memberships, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        if (memberships is not null)
        {
            foreach (var membership in memberships)
            {
                Guard.Identifier(membership, nameof(memberships));
            }
            if (memberships.Count == 0)
            {
                return [];
            }
        }
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("")
                .With("@member_type", EventBatchValidator.MemberEventType)
                .With("@user", userId);
            var filter = memberships is null ? "" : " AND " + db.InSet(command, "membership", "@memberships", memberships);
            command.CommandText =
                "SELECT room_id, state_key, membership, event_id FROM current_state " +
                $"WHERE event_type = @member_type AND state_key = @user{filter} ORDER BY room_id";
            return await command.ListAsync(ReadMembership, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<MembershipEntry>> GetMembersAsync(
        string roomId, string? membership, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.OptionalIdentifier(membership, nameof(membership));
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("")
                .With("@member_type", EventBatchValidator.MemberEventType)
                .With("@room", roomId);
            var filter = "";
            if (membership is not null)
            {
                command.With("@membership", membership);
                filter = " AND membership = @membership";
            }
            command.CommandText =
                "SELECT room_id, state_key, membership, event_id FROM current_state " +
                $"WHERE room_id = @room AND event_type = @member_type{filter} ORDER BY state_key";
            return await command.ListAsync(ReadMembership, ct);
        }, cancellationToken);
    }

    private static MembershipEntry ReadMembership(System.Data.Common.DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3));
}
