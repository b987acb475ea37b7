using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlRoomForkStore(SqlDatabase db) : IRoomForkStore
{
    public async Task<IReadOnlyList<ForwardExtremityRow>> GetForwardExtremitiesAsync(string roomId, CancellationToken cancellationToken)
    {
        Guard.Identifier(roomId, nameof(roomId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT event_id, state_after FROM room_forward_extremities WHERE room_id = @room ORDER BY event_id")
                .With("@room", roomId)
                .ListAsync(r => new ForwardExtremityRow(r.GetString(0), r.GetBytes(1)), ct), cancellationToken);
    }

    public Task StoreSoftFailedAsync(SoftFailedEvent softFailed, long receivedTs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(softFailed);
        Guard.Identifier(softFailed.EventId, nameof(softFailed.EventId));
        Guard.Identifier(softFailed.RoomId, nameof(softFailed.RoomId));
        ArgumentNullException.ThrowIfNull(softFailed.Json, nameof(softFailed.Json));
        return db.WriteAsync((connection, transaction, ct) =>
            connection.Command(
                    "INSERT INTO soft_failed_events (event_id, room_id, json, received_ts) VALUES (@event, @room, @json, @ts) " +
                    "ON CONFLICT (event_id) DO NOTHING", transaction)
                .With("@event", softFailed.EventId)
                .With("@room", softFailed.RoomId)
                .With("@json", softFailed.Json)
                .With("@ts", receivedTs)
                .ExecuteAsync(ct), cancellationToken);
    }

    public async Task<SoftFailedEvent?> GetSoftFailedAsync(string eventId, CancellationToken cancellationToken)
    {
        Guard.Identifier(eventId, nameof(eventId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT event_id, room_id, json FROM soft_failed_events WHERE event_id = @event")
                .With("@event", eventId)
                .SingleOrDefaultAsync(r => new SoftFailedEvent(r.GetString(0), r.GetString(1), r.GetBytes(2)), ct), cancellationToken);
    }

    public Task StoreRejectedAsync(RejectedEvent rejected, long receivedTs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        Guard.Identifier(rejected.EventId, nameof(rejected.EventId));
        Guard.Identifier(rejected.RoomId, nameof(rejected.RoomId));
        ArgumentNullException.ThrowIfNull(rejected.Json, nameof(rejected.Json));
        ArgumentNullException.ThrowIfNull(rejected.Reason, nameof(rejected.Reason));
        return db.WriteAsync((connection, transaction, ct) =>
            connection.Command(
                    "INSERT INTO rejected_events (event_id, room_id, json, reason, received_ts) VALUES (@event, @room, @json, @reason, @ts) " +
                    "ON CONFLICT (event_id) DO NOTHING", transaction)
                .With("@event", rejected.EventId)
                .With("@room", rejected.RoomId)
                .With("@json", rejected.Json)
                .With("@reason", rejected.Reason)
                .With("@ts", receivedTs)
                .ExecuteAsync(ct), cancellationToken);
    }

    public async Task<RejectedEvent?> GetRejectedAsync(string eventId, CancellationToken cancellationToken)
    {
        Guard.Identifier(eventId, nameof(eventId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT event_id, room_id, json, reason FROM rejected_events WHERE event_id = @event")
                .With("@event", eventId)
                .SingleOrDefaultAsync(r => new RejectedEvent(r.GetString(0), r.GetString(1), r.GetBytes(2), r.GetString(3)), ct), cancellationToken);
    }

    /// <summary>Replaces the room's extremity rows inside an event append (<see cref="EventBatch.ForwardExtremities"/>).</summary>
    internal static async Task ReplaceAsync(DbConnection connection, DbTransaction transaction, string roomId,
        IReadOnlyList<ForwardExtremityRow> extremities, CancellationToken ct)
    {
        await connection.Command("DELETE FROM room_forward_extremities WHERE room_id = @room", transaction)
            .With("@room", roomId)
            .ExecuteAsync(ct);
        foreach (var extremity in extremities)
        {
            await connection.Command(
                    "INSERT INTO room_forward_extremities (room_id, event_id, state_after) VALUES (@room, @event, @state)", transaction)
                .With("@room", roomId)
                .With("@event", extremity.EventId)
                .With("@state", extremity.StateAfter)
                .ExecuteAsync(ct);
        }
    }
}
