namespace HomeServer.Storage.Sql;

internal sealed class SqlFederationDestinationStore(SqlDatabase db) : IFederationDestinationStore
{
    public async Task<FederationDestinationRecord?> GetAsync(string destination, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        return await db.ReadAsync(async (connection, ct) =>
        {
            var heads = await connection.Command("SELECT acked_position, failing_since_ts FROM federation_destinations WHERE destination = @d")
                .With("@d", destination)
                .ListAsync(r => (Acked: r.GetInt64(0), FailingSince: r.GetNullableInt64(1)), ct);
            if (heads.Count == 0) return null;
            var head = heads[0];
            var rooms = await connection.Command(
                    "SELECT room_id, since_position, until_position FROM federation_destination_rooms WHERE destination = @d ORDER BY room_id")
                .With("@d", destination)
                .ListAsync(r => new FederationRoomWindow(r.GetString(0), r.GetInt64(1), r.GetNullableInt64(2)), ct);
            return new FederationDestinationRecord(destination, head.Acked, head.FailingSince, rooms);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        await db.ReadAsync((connection, ct) =>
                connection.Command("SELECT destination FROM federation_destinations ORDER BY destination").ListAsync(r => r.GetString(0), ct),
            cancellationToken);

    public async Task<bool> OpenRoomAsync(string destination, string roomId, long sincePosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Position(sincePosition, nameof(sincePosition));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await connection.Command(
                    "INSERT INTO federation_destinations (destination, acked_position) VALUES (@d, @since) ON CONFLICT (destination) DO NOTHING",
                    transaction)
                .With("@d", destination)
                .With("@since", sincePosition)
                .ExecuteAsync(ct);
            var opened = await connection.Command(
                    "INSERT INTO federation_destination_rooms (destination, room_id, since_position, until_position) VALUES (@d, @room, @since, NULL) " +
                    "ON CONFLICT (destination, room_id) DO UPDATE SET since_position = excluded.since_position, until_position = NULL " +
                    "WHERE federation_destination_rooms.until_position IS NOT NULL",
                    transaction)
                .With("@d", destination)
                .With("@room", roomId)
                .With("@since", sincePosition)
                .ExecuteAsync(ct);
            if (opened == 0) return false;
            await connection.Command(
                    "UPDATE federation_destinations SET acked_position = @since WHERE destination = @d AND acked_position > @since", transaction)
                .With("@d", destination)
                .With("@since", sincePosition)
                .ExecuteAsync(ct);
            return true;
        }, cancellationToken);
    }

    public Task CloseRoomAsync(string destination, string roomId, long untilPosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Position(untilPosition, nameof(untilPosition));
        return db.WriteAsync((connection, transaction, ct) =>
            connection.Command(
                    "UPDATE federation_destination_rooms SET until_position = @until " +
                    "WHERE destination = @d AND room_id = @room AND until_position IS NULL AND since_position < @until",
                    transaction)
                .With("@d", destination)
                .With("@room", roomId)
                .With("@until", untilPosition)
                .ExecuteAsync(ct), cancellationToken);
    }

    public Task SetAckedAsync(string destination, long ackedPosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        Guard.Position(ackedPosition, nameof(ackedPosition));
        return db.WriteAsync(async (connection, transaction, ct) =>
        {
            await connection.Command(
                    "UPDATE federation_destinations SET acked_position = @acked WHERE destination = @d AND acked_position < @acked", transaction)
                .With("@d", destination)
                .With("@acked", ackedPosition)
                .ExecuteAsync(ct);
            return await connection.Command(
                    "DELETE FROM federation_destination_rooms WHERE destination = @d AND until_position IS NOT NULL AND until_position <= @acked",
                    transaction)
                .With("@d", destination)
                .With("@acked", ackedPosition)
                .ExecuteAsync(ct);
        }, cancellationToken);
    }

    public Task SetFailingSinceAsync(string destination, long? sinceTs, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        return db.WriteAsync((connection, transaction, ct) =>
            connection.Command("UPDATE federation_destinations SET failing_since_ts = @since WHERE destination = @d", transaction)
                .With("@d", destination)
                .With("@since", sinceTs)
                .ExecuteAsync(ct), cancellationToken);
    }

    /// <summary>The events of the destination's windows in (@after, @upTo]: joined from its rooms, so only their index ranges are read.</summary>
    private const string OwedEventsFrom =
        "FROM federation_destination_rooms w JOIN events x ON x.room_id = w.room_id " +
        "AND x.global_position > @after AND x.global_position <= @upTo AND x.global_position > w.since_position " +
        "AND (w.until_position IS NULL OR x.global_position <= w.until_position) ";

    public async Task<int> CountOwedEventsAsync(
        string destination, long afterGlobalPosition, long upToGlobalPosition, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        Guard.Position(afterGlobalPosition, nameof(afterGlobalPosition));
        Guard.Position(upToGlobalPosition, nameof(upToGlobalPosition));
        Guard.Limit(limit, nameof(limit));
        if (upToGlobalPosition <= afterGlobalPosition) return 0;
        return await db.ReadAsync(async (connection, ct) =>
        {
            var count = await connection.Command($"SELECT COUNT(*) FROM (SELECT 1 {OwedEventsFrom}WHERE w.destination = @d LIMIT @limit) owed")
                .With("@d", destination)
                .With("@after", afterGlobalPosition)
                .With("@upTo", upToGlobalPosition)
                .With("@limit", limit)
                .ScalarAsync<long>(ct);
            return (int)count;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetNewestOwedEventsAsync(
        string destination, long afterGlobalPosition, long upToGlobalPosition, string afterRoomId, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        Guard.Position(afterGlobalPosition, nameof(afterGlobalPosition));
        Guard.Position(upToGlobalPosition, nameof(upToGlobalPosition));
        ArgumentNullException.ThrowIfNull(afterRoomId);
        Guard.Limit(limit, nameof(limit));
        if (upToGlobalPosition <= afterGlobalPosition) return [];
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {EventRows.Columns} FROM events e JOIN (" +
                    $"SELECT w.room_id, MAX(x.global_position) AS newest {OwedEventsFrom}" +
                    "WHERE w.destination = @d AND w.room_id > @afterRoom GROUP BY w.room_id ORDER BY w.room_id LIMIT @limit" +
                    ") n ON e.global_position = n.newest ORDER BY n.room_id")
                .With("@d", destination)
                .With("@after", afterGlobalPosition)
                .With("@upTo", upToGlobalPosition)
                .With("@afterRoom", afterRoomId)
                .With("@limit", limit)
                .ListAsync(EventRows.Read, ct), cancellationToken);
    }
}
