using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlEventSearchStore(SqlDatabase db) : IEventSearchStore
{
    public async Task<IReadOnlyList<EventSearchHit>> SearchAsync(EventSearchQuery query, CancellationToken cancellationToken)
    {
        Guard.Limit(query.Limit, nameof(query));
        if (db.FullText.Query(query.Term) is not { } match || query.RoomIds.Count == 0 || query.Keys.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("").With("@query", match).With("@limit", query.Limit);
            var position = $"event_search.{db.FullText.PositionColumn}";
            var conditions = Conditions(command, query);
            if (query.Order == EventSearchOrder.Recent)
            {
                // Newest first along the index's own order (FTS5 walks its rowids backwards and stops at the limit).
                if (query.After is { } after) command.With("@after", after.GlobalPosition);
                command.CommandText =
                    $"SELECT e.room_id, e.event_id, e.room_position, e.global_position, {db.FullText.ScoreExpression} " +
                    $"FROM event_search JOIN events e ON e.global_position = {position} WHERE {conditions}" +
                    (query.After is null ? "" : $" AND {position} < @after") +
                    $" ORDER BY {position} DESC LIMIT @limit";
            }
            else
            {
                // Every match is scored from the index alone (materialized, where the full-text functions are allowed);
                // only the best are joined to their events.
                if (query.After is { } after) command.With("@rank", after.Rank).With("@after", after.GlobalPosition);
                command.CommandText =
                    $"WITH hits AS MATERIALIZED (SELECT {position} AS pos, {db.FullText.ScoreExpression} AS score " +
                    $"FROM event_search WHERE {conditions}), " +
                    "best AS (SELECT pos, score FROM hits" +
                    (query.After is null ? "" : " WHERE score < @rank OR (score = @rank AND pos < @after)") +
                    " ORDER BY score DESC, pos DESC LIMIT @limit) " +
                    "SELECT e.room_id, e.event_id, e.room_position, e.global_position, best.score " +
                    "FROM best JOIN events e ON e.global_position = best.pos ORDER BY best.score DESC, best.pos DESC";
            }
            return await command.ListAsync(
                r => new EventSearchHit(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetDouble(4)), ct);
        }, cancellationToken);
    }

    public async Task<long> CountAsync(EventSearchQuery query, CancellationToken cancellationToken)
    {
        if (db.FullText.Query(query.Term) is not { } match || query.RoomIds.Count == 0 || query.Keys.Count == 0) return 0;
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("").With("@query", match);
            command.CommandText = $"SELECT COUNT(*) FROM event_search WHERE {Conditions(command, query)}";
            return await command.ScalarAsync<long>(ct);
        }, cancellationToken);
    }

    private string Conditions(DbCommand command, EventSearchQuery query) =>
        $"{db.FullText.MatchCondition} AND {db.InSet(command, "event_search.room_id", "@rooms", query.RoomIds)} " +
        $"AND {db.InSet(command, "event_search.key", "@keys", query.Keys)}";

    public async Task<IReadOnlyList<StoredEvent>> GetEventsByTimestampAsync(
        string roomId, long timestamp, Direction direction, int skip, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Position(skip, nameof(skip));
        Guard.Limit(limit, nameof(limit));
        var (comparison, order) = direction switch
        {
            Direction.Forward => (">=", "ASC"),
            Direction.Backward => ("<=", "DESC"),
            _ => throw new ArgumentOutOfRangeException(nameof(direction)),
        };
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {EventRows.Columns} FROM events e WHERE e.room_id = @room AND e.origin_server_ts {comparison} @ts " +
                    $"ORDER BY e.origin_server_ts {order}, e.room_position {order} LIMIT @limit OFFSET @skip")
                .With("@room", roomId)
                .With("@ts", timestamp)
                .With("@limit", limit)
                .With("@skip", skip)
                .ListAsync(EventRows.Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<DirectoryUser>> SearchUsersAsync(string searcherId, string term, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(searcherId, nameof(searcherId));
        Guard.Limit(limit, nameof(limit));
        var pattern = "%" + term.ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        var joinRule = db.FullText.JsonString("e.json", "content", "join_rule");
        var visibility = db.FullText.JsonString("e.json", "content", "history_visibility");
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "WITH visible_rooms AS (" +
                    "SELECT s.room_id FROM current_state s WHERE s.event_type = 'm.room.member' AND s.state_key = @searcher AND s.membership = 'join' " +
                    "UNION SELECT r.room_id FROM rooms r WHERE r.is_published = TRUE " +
                    "UNION SELECT c.room_id FROM current_state c JOIN events e ON e.event_id = c.event_id " +
                    $"WHERE c.event_type = 'm.room.join_rules' AND c.state_key = '' AND {joinRule} = 'public' " +
                    "UNION SELECT c.room_id FROM current_state c JOIN events e ON e.event_id = c.event_id " +
                    $"WHERE c.event_type = 'm.room.history_visibility' AND c.state_key = '' AND {visibility} = 'world_readable') " +
                    "SELECT a.user_id, a.display_name, a.avatar_url FROM accounts a " +
                    "WHERE a.deactivated = FALSE " +
                    "AND (lower(a.user_id) LIKE @pattern ESCAPE '\\' OR lower(a.display_name) LIKE @pattern ESCAPE '\\') " +
                    "AND EXISTS (SELECT 1 FROM current_state m WHERE m.event_type = 'm.room.member' AND m.state_key = a.user_id " +
                    "AND m.membership = 'join' AND m.room_id IN (SELECT room_id FROM visible_rooms)) " +
                    "ORDER BY a.user_id LIMIT @limit")
                .With("@searcher", searcherId)
                .With("@pattern", pattern)
                .With("@limit", limit)
                .ListAsync(r => new DirectoryUser(r.GetString(0), r.GetNullableString(1), r.GetNullableString(2)), ct),
            cancellationToken);
    }
}
