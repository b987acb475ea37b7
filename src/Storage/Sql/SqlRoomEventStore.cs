namespace HomeServer.Storage.Sql;

internal sealed class SqlRoomEventStore(SqlDatabase db) : IRoomEventStore
{
    public async Task<IReadOnlyList<AppendedEvent>> AppendAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        EventBatchValidator.Validate(batch);
        return await db.AppendEventsAsync(
            batch.Events.Count,
            (connection, transaction, positions, ct) => new EventBatchWriter(db, connection, transaction, batch, positions).WriteAsync(ct),
            cancellationToken);
    }

    public async Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken)
    {
        Guard.Identifier(eventId, nameof(eventId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {EventRows.Columns} FROM events e WHERE e.event_id = @event")
                .With("@event", eventId)
                .SingleOrDefaultAsync(EventRows.Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetRoomEventsAsync(
        string roomId, long fromPosition, Direction direction, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Position(fromPosition, nameof(fromPosition));
        Guard.Limit(limit, nameof(limit));
        var (comparison, order) = direction switch
        {
            Direction.Forward => (">", "ASC"),
            Direction.Backward => ("<", "DESC"),
            _ => throw new ArgumentOutOfRangeException(nameof(direction)),
        };
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {EventRows.Columns} FROM events e WHERE e.room_id = @room AND e.room_position {comparison} @from " +
                    $"ORDER BY e.room_position {order} LIMIT @limit")
                .With("@room", roomId)
                .With("@from", fromPosition)
                .With("@limit", limit)
                .ListAsync(EventRows.Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetLatestEventsAsync(string roomId, int limit, CancellationToken cancellationToken)
    {
        var newestFirst = await GetRoomEventsAsync(roomId, long.MaxValue, Direction.Backward, limit, cancellationToken);
        return newestFirst.Reverse().ToList();
    }

    public async Task<IReadOnlyList<StoredEvent>> GetEventsAfterAsync(
        IReadOnlyCollection<string> roomIds, long afterGlobalPosition, int limit, CancellationToken cancellationToken)
    {
        Guard.RoomIds(roomIds, nameof(roomIds));
        Guard.Position(afterGlobalPosition, nameof(afterGlobalPosition));
        Guard.Limit(limit, nameof(limit));
        if (roomIds.Count == 0)
        {
            return [];
        }
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                $"SELECT {EventRows.Columns} FROM events e WHERE {db.InSet(command, "e.room_id", "@rooms", roomIds)} " +
                "AND e.global_position > @after ORDER BY e.global_position LIMIT @limit";
            return await command
                .With("@after", afterGlobalPosition)
                .With("@limit", limit)
                .ListAsync(EventRows.Read, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<EventPlace>> GetEventPlacesAsync(
        long afterGlobalPosition, long upToGlobalPosition, int limit, CancellationToken cancellationToken)
    {
        Guard.Position(afterGlobalPosition, nameof(afterGlobalPosition));
        Guard.Position(upToGlobalPosition, nameof(upToGlobalPosition));
        Guard.Limit(limit, nameof(limit));
        if (upToGlobalPosition <= afterGlobalPosition) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command(
                "SELECT global_position, room_id, CASE WHEN membership IS NULL THEN NULL ELSE state_key END FROM events " +
                "WHERE global_position > @after AND global_position <= @upTo ORDER BY global_position LIMIT @limit");
            return await command
                .With("@after", afterGlobalPosition)
                .With("@upTo", upToGlobalPosition)
                .With("@limit", limit)
                .ListAsync(reader => new EventPlace(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)), ct);
        }, cancellationToken);
    }

    public Task<long> GetMaxGlobalPositionAsync(CancellationToken cancellationToken) =>
        db.GetEventsPersistedUpToAsync(cancellationToken);

    public Task<long> GetAllocatedGlobalPositionAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(db, StreamPositions.Events, cancellationToken);
}
