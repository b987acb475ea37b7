using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlPushStore(SqlDatabase db) : IPushStore
{
    private const string PushRulesType = "m.push_rules";

    // A notification is read when the unthreaded mark (a) or its own thread's mark (t) has reached it.
    private const string ReadMarkJoins =
        "LEFT JOIN push_read_marks a ON a.user_id = n.user_id AND a.room_id = n.room_id AND a.thread_id = '' " +
        "LEFT JOIN push_read_marks t ON t.user_id = n.user_id AND t.room_id = n.room_id AND t.thread_id = n.thread_id ";

    private const string IsUnread = "(n.room_position > COALESCE(a.room_position, 0) AND n.room_position > COALESCE(t.room_position, 0))";

    public async Task<IReadOnlyList<AccountPushRules>> GetPushRulesAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        foreach (var userId in userIds) Guard.Identifier(userId, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                "SELECT user_id, content, stream_position FROM global_account_data " +
                $"WHERE data_type = @type AND {db.InSet(command, "user_id", "@users", userIds)}";
            return await command.With("@type", PushRulesType).ListAsync(ReadRules, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<AccountPushRules>> GetPushRuleChangesAsync(long sincePosition, CancellationToken cancellationToken)
    {
        Guard.Position(sincePosition, nameof(sincePosition));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT user_id, content, stream_position FROM global_account_data " +
                    "WHERE data_type = @type AND stream_position > @since ORDER BY stream_position")
                .With("@type", PushRulesType)
                .With("@since", sincePosition)
                .ListAsync(ReadRules, ct),
            cancellationToken);
    }

    public async Task SetReadMarkAsync(string userId, string roomId, string threadId, long roomPosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(roomId, nameof(roomId));
        ArgumentNullException.ThrowIfNull(threadId);
        Guard.OptionalText(threadId, StoreLimits.MaxIdentifierBytes, nameof(threadId));
        Guard.Position(roomPosition, nameof(roomPosition));
        await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "INSERT INTO push_read_marks (user_id, room_id, thread_id, room_position) VALUES (@user, @room, @thread, @position) " +
                    "ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET room_position = CASE " +
                    "WHEN excluded.room_position > push_read_marks.room_position THEN excluded.room_position " +
                    "ELSE push_read_marks.room_position END",
                    transaction)
                .With("@user", userId)
                .With("@room", roomId)
                .With("@thread", threadId)
                .With("@position", roomPosition)
                .ExecuteAsync(ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<UnreadCount>> GetUnreadCountsAsync(
        string userId, IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.RoomIds(roomIds, nameof(roomIds));
        if (roomIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                "SELECT n.room_id, n.thread_id, COUNT(*), SUM(CASE WHEN n.highlight THEN 1 ELSE 0 END) " +
                "FROM push_notifications n " + ReadMarkJoins +
                $"WHERE n.user_id = @user AND {db.InSet(command, "n.room_id", "@rooms", roomIds)} AND {IsUnread} " +
                "GROUP BY n.room_id, n.thread_id";
            return await command
                .With("@user", userId)
                .ListAsync(r => new UnreadCount(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3)), ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<RoomUnreadCounts>> GetUnreadCountsWithPositionsAsync(
        string userId, IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.RoomIds(roomIds, nameof(roomIds));
        if (roomIds.Count == 0) return [];
        var rows = await db.ReadAsync(async (connection, ct) =>
        {
            // One statement, hence one snapshot of both tables; a NULL thread marks a room's position row.
            var command = connection.Command("");
            command.CommandText =
                "SELECT n.room_id, n.thread_id, COUNT(*), SUM(CASE WHEN n.highlight THEN 1 ELSE 0 END) " +
                "FROM push_notifications n " + ReadMarkJoins +
                $"WHERE n.user_id = @user AND {db.InSet(command, "n.room_id", "@rooms", roomIds)} AND {IsUnread} " +
                "GROUP BY n.room_id, n.thread_id " +
                "UNION ALL " +
                // Per room, so that the newest position is one step down the (room_id, room_position) index.
                "SELECT r.room_id, NULL, COALESCE((SELECT MAX(e.room_position) FROM events e WHERE e.room_id = r.room_id), 0), 0 " +
                $"FROM rooms r WHERE {db.InSet(command, "r.room_id", "@positionRooms", roomIds)}";
            return await command
                .With("@user", userId)
                .ListAsync(r => (RoomId: r.GetString(0), ThreadId: r.IsDBNull(1) ? null : r.GetString(1), First: r.GetInt64(2), Second: r.GetInt64(3)), ct);
        }, cancellationToken);
        var counts = rows.Where(row => row.ThreadId is not null)
            .ToLookup(row => row.RoomId, row => new UnreadCount(row.RoomId, row.ThreadId!, row.First, row.Second), StringComparer.Ordinal);
        return rows.Where(row => row.ThreadId is null)
            .Select(position => new RoomUnreadCounts(position.RoomId, position.First, counts[position.RoomId].ToList()))
            .ToList();
    }

    public async Task<IReadOnlyList<StoredNotification>> GetNotificationsAsync(
        string userId, long? beforeGlobalPosition, int limit, bool onlyHighlight, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Limit(limit, nameof(limit));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT n.room_id, n.event_id, n.room_position, n.global_position, n.thread_id, n.highlight, n.actions, n.ts, " +
                    $"CASE WHEN {IsUnread} THEN 0 ELSE 1 END " +
                    "FROM push_notifications n " + ReadMarkJoins +
                    "WHERE n.user_id = @user AND n.global_position < @before " +
                    (onlyHighlight ? "AND n.highlight = TRUE " : "") +
                    "ORDER BY n.global_position DESC LIMIT @limit")
                .With("@user", userId)
                .With("@before", beforeGlobalPosition ?? long.MaxValue)
                .With("@limit", limit)
                .ListAsync(ReadNotification, ct),
            cancellationToken);
    }

    private static AccountPushRules ReadRules(DbDataReader reader) => new(reader.GetString(0), reader.GetBytes(1), reader.GetInt64(2));

    private static StoredNotification ReadNotification(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4),
        reader.GetBoolean(5), reader.GetBytes(6), reader.GetInt64(7), reader.GetInt32(8) == 1);
}
