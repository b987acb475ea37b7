using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlRelationStore(SqlDatabase db) : IRelationStore
{
    private const string Thread = "m.thread";
    private const string Replace = "m.replace";
    private const string Reference = "m.reference";

    public async Task<IReadOnlyList<StoredEvent>> GetRelatedEventsAsync(RelationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        Guard.Identifier(query.RoomId, nameof(query.RoomId));
        Guard.Identifier(query.ParentEventId, nameof(query.ParentEventId));
        Guard.OptionalIdentifier(query.RelType, nameof(query.RelType));
        Guard.OptionalIdentifier(query.EventType, nameof(query.EventType));
        Guard.Position(query.FromPosition, nameof(query.FromPosition));
        Guard.Limit(query.Limit, nameof(query.Limit));
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Depth, 1, nameof(query.Depth));
        var forward = query.Direction == Direction.Forward;
        var bounds = forward
            ? "r.room_position > @from" + (query.ToPosition is null ? "" : " AND r.room_position <= @to")
            : "r.room_position <= @from" + (query.ToPosition is null ? "" : " AND r.room_position > @to");
        var sql =
            "WITH RECURSIVE related (event_id, depth) AS (" +
            "SELECT c.event_id, 1 FROM event_relations c WHERE c.parent_event_id = @parent AND c.room_id = @room " +
            "UNION ALL SELECT c.event_id, related.depth + 1 FROM event_relations c " +
            "JOIN related ON c.parent_event_id = related.event_id WHERE related.depth < @depth) " +
            $"SELECT {EventRows.Columns} FROM related JOIN event_relations r ON r.event_id = related.event_id " +
            "JOIN events e ON e.event_id = r.event_id " +
            $"WHERE {bounds}" +
            (query.RelType is null ? "" : " AND r.rel_type = @rel") +
            (query.EventType is null ? "" : " AND r.event_type = @type") +
            $" ORDER BY r.room_position {(forward ? "ASC" : "DESC")} LIMIT @limit";
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(sql)
                .With("@parent", query.ParentEventId)
                .With("@room", query.RoomId)
                .With("@depth", query.Depth)
                .With("@from", query.FromPosition)
                .With("@to", query.ToPosition)
                .With("@rel", query.RelType)
                .With("@type", query.EventType)
                .With("@limit", query.Limit)
                .ListAsync(EventRows.Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<ThreadRoot>> GetThreadRootsAsync(
        string roomId, long beforePosition, string? participant, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Position(beforePosition, nameof(beforePosition));
        Guard.OptionalIdentifier(participant, nameof(participant));
        Guard.Limit(limit, nameof(limit));
        var participated = participant is null
            ? ""
            : " AND (MAX(CASE WHEN r.sender = @user THEN 1 ELSE 0 END) = 1 OR " +
              "EXISTS (SELECT 1 FROM events root WHERE root.event_id = r.parent_event_id AND root.sender = @user))";
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT r.parent_event_id, MAX(r.room_position) AS latest FROM event_relations r " +
                    "WHERE r.room_id = @room AND r.rel_type = 'm.thread' GROUP BY r.parent_event_id " +
                    $"HAVING MAX(r.room_position) < @before{participated} ORDER BY latest DESC LIMIT @limit")
                .With("@room", roomId)
                .With("@before", beforePosition)
                .With("@user", participant)
                .With("@limit", limit)
                .ListAsync(r => new ThreadRoot(r.GetString(0), r.GetInt64(1)), ct),
            cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, RelationAggregation>> GetAggregationsAsync(
        string roomId, IReadOnlyCollection<string> parentEventIds, string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.RoomIds(parentEventIds, nameof(parentEventIds));
        Guard.Identifier(userId, nameof(userId));
        if (parentEventIds.Count == 0) return new Dictionary<string, RelationAggregation>();
        return await db.ReadAsync(async (connection, ct) =>
        {
            // Most pages have no relations at all: one query finds which kinds exist before any is aggregated.
            var kinds = await Query(connection, parentEventIds,
                    "SELECT DISTINCT r.parent_event_id, r.rel_type FROM event_relations r WHERE {parents} AND r.rel_type IN ('m.thread', 'm.replace', 'm.reference')")
                .ListAsync(r => (Parent: r.GetString(0), RelType: r.GetString(1)), ct);
            if (kinds.Count == 0) return new Dictionary<string, RelationAggregation>();
            var threads = new Dictionary<string, (int Count, long Latest, bool Replied)>();
            var latestThreadEvents = new Dictionary<string, StoredEvent>();
            var edits = new Dictionary<string, StoredEvent>();
            var references = new Dictionary<string, List<string>>();

            if (Having(kinds, Thread) is { Count: > 0 } threadParents)
            {
                var rows = await Query(connection, threadParents,
                        "SELECT r.parent_event_id, COUNT(*), MAX(r.room_position), MAX(CASE WHEN r.sender = @user THEN 1 ELSE 0 END) " +
                        "FROM event_relations r WHERE {parents} AND r.rel_type = 'm.thread' GROUP BY r.parent_event_id")
                    .With("@user", userId)
                    .ListAsync(r => (Parent: r.GetString(0), Count: r.GetInt64(1), Latest: r.GetInt64(2), Replied: r.GetInt64(3) == 1), ct);
                foreach (var row in rows) threads[row.Parent] = ((int)row.Count, row.Latest, row.Replied);
                var latest = await Query(connection, threadParents,
                        $"SELECT r.parent_event_id, {EventRows.Columns} FROM event_relations r JOIN events e ON e.event_id = r.event_id " +
                        "WHERE {parents} AND r.rel_type = 'm.thread' AND r.room_position = (SELECT MAX(x.room_position) " +
                        "FROM event_relations x WHERE x.parent_event_id = r.parent_event_id AND x.rel_type = 'm.thread')")
                    .ListAsync(r => (Parent: r.GetString(0), Event: EventRows.Read(r, 1)), ct);
                foreach (var row in latest) latestThreadEvents[row.Parent] = row.Event;
            }
            if (Having(kinds, Replace) is { Count: > 0 } editedParents)
            {
                var rows = await Query(connection, editedParents,
                        $"SELECT r.parent_event_id, {EventRows.Columns} FROM event_relations r JOIN events e ON e.event_id = r.event_id " +
                        "WHERE {parents} AND r.rel_type = 'm.replace' ORDER BY e.origin_server_ts DESC, e.event_id DESC")
                    .ListAsync(r => (Parent: r.GetString(0), Event: EventRows.Read(r, 1)), ct);
                foreach (var row in rows) edits.TryAdd(row.Parent, row.Event);
            }
            if (Having(kinds, Reference) is { Count: > 0 } referencedParents)
            {
                var rows = await Query(connection, referencedParents,
                        "SELECT r.parent_event_id, r.event_id FROM event_relations r WHERE {parents} AND r.rel_type = 'm.reference' ORDER BY r.room_position")
                    .ListAsync(r => (Parent: r.GetString(0), EventId: r.GetString(1)), ct);
                foreach (var row in rows)
                {
                    if (!references.TryGetValue(row.Parent, out var list)) references[row.Parent] = list = [];
                    list.Add(row.EventId);
                }
            }

            var result = new Dictionary<string, RelationAggregation>();
            foreach (var parent in kinds.Select(k => k.Parent).Distinct())
            {
                var thread = threads.GetValueOrDefault(parent);
                result[parent] = new RelationAggregation(
                    thread.Count,
                    thread.Count > 0 ? latestThreadEvents.GetValueOrDefault(parent) : null,
                    thread.Replied,
                    edits.GetValueOrDefault(parent),
                    references.GetValueOrDefault(parent) ?? []);
            }
            return (IReadOnlyDictionary<string, RelationAggregation>)result;
        }, cancellationToken);
    }

    private static List<string> Having(List<(string Parent, string RelType)> kinds, string relType) =>
        kinds.Where(k => k.RelType == relType).Select(k => k.Parent).Distinct().ToList();

    private DbCommand Query(DbConnection connection, IReadOnlyCollection<string> parents, string sql)
    {
        var command = connection.Command("");
        command.CommandText = sql.Replace("{parents}", db.InSet(command, "r.parent_event_id", "@parents", parents), StringComparison.Ordinal);
        return command;
    }
}
