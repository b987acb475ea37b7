using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlRoomBackfillStore(SqlDatabase db) : IRoomBackfillStore
{
    private const string Columns = "room_id, position, event_id, event_type, state_key, sender, origin_server_ts, membership, redacted, json";

    public async Task<int> AddOlderAsync(string roomId, IReadOnlyList<BackfilledEvent> newestFirst, bool complete, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        foreach (var e in newestFirst)
        {
            Guard.Identifier(e.EventId, nameof(e.EventId));
            Guard.Identifier(e.Type, nameof(e.Type));
            Guard.Identifier(e.Sender, nameof(e.Sender));
            Guard.JsonObject(e.Json, StoreLimits.MaxEventJsonBytes, nameof(e.Json));
        }
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var oldest = await connection.Command("SELECT COALESCE(MIN(position), 0) FROM backfilled_events WHERE room_id = @room", transaction)
                .With("@room", roomId).ScalarAsync<long>(ct);
            var added = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in newestFirst)
            {
                if (!seen.Add(e.EventId)) continue;
                var known = await connection.Command("SELECT COUNT(*) FROM backfilled_events WHERE room_id = @room AND event_id = @event", transaction)
                    .With("@room", roomId).With("@event", e.EventId).ScalarAsync<long>(ct);
                if (known > 0) continue;
                await connection.Command(
                        $"INSERT INTO backfilled_events ({Columns}) VALUES (@room, @position, @event, @type, @stateKey, @sender, @ts, @membership, @redacted, @json)",
                        transaction)
                    .With("@room", roomId).With("@position", oldest - 1 - added).With("@event", e.EventId).With("@type", e.Type)
                    .With("@stateKey", e.StateKey).With("@sender", e.Sender).With("@ts", e.OriginServerTs).With("@membership", e.Membership)
                    .With("@redacted", e.Redacted).With("@json", e.Json)
                    .ExecuteAsync(ct);
                added++;
            }
            if (complete)
            {
                await connection.Command(
                        "INSERT INTO backfill_progress (room_id, complete) VALUES (@room, TRUE) ON CONFLICT (room_id) DO UPDATE SET complete = TRUE", transaction)
                    .With("@room", roomId).ExecuteAsync(ct);
            }
            return added;
        }, cancellationToken);
    }

    public async Task<BackfillProgress> GetProgressAsync(string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync(async (connection, ct) =>
        {
            var oldest = await connection.Command("SELECT COALESCE(MIN(position), 0) FROM backfilled_events WHERE room_id = @room")
                .With("@room", roomId).ScalarAsync<long>(ct);
            var complete = await connection.Command("SELECT COUNT(*) FROM backfill_progress WHERE room_id = @room AND complete = TRUE")
                .With("@room", roomId).ScalarAsync<long>(ct);
            return new BackfillProgress(oldest, complete > 0);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetEventsAsync(string roomId, long fromPosition, Direction direction, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Limit(limit, nameof(limit));
        var (comparison, order) = direction switch
        {
            Direction.Forward => (">", "ASC"),
            Direction.Backward => ("<", "DESC"),
            _ => throw new ArgumentOutOfRangeException(nameof(direction)),
        };
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {Columns} FROM backfilled_events WHERE room_id = @room AND position {comparison} @from ORDER BY position {order} LIMIT @limit")
                .With("@room", roomId).With("@from", fromPosition).With("@limit", limit)
                .ListAsync(Read, ct),
            cancellationToken);
    }

    public async Task<StoredEvent?> GetEventAsync(string roomId, string eventId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        Guard.Identifier(eventId, nameof(eventId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {Columns} FROM backfilled_events WHERE room_id = @room AND event_id = @event")
                .With("@room", roomId).With("@event", eventId)
                .SingleOrDefaultAsync(Read, ct),
            cancellationToken);
    }

    private static StoredEvent Read(DbDataReader reader) => new(
        reader.GetString(0), reader.GetInt64(1), 0, reader.GetString(2), reader.GetString(3), reader.GetNullableString(4),
        reader.GetString(5), reader.GetInt64(6), reader.GetNullableString(7), reader.GetBoolean(8), reader.GetBytes(9));
}
