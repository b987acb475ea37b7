using System.Data.Common;
using System.Text;

namespace HomeServer.Storage.Sql;

/// <summary>Writes one validated <see cref="EventBatch"/> inside the caller's transaction.</summary>
internal sealed class EventBatchWriter(
    SqlDatabase db, DbConnection connection, DbTransaction transaction, EventBatch batch, EventPositionLease positions)
{
    // Rows per multi-row INSERT: one round trip per chunk, well under both backends' parameter limits.
    private const int RowsPerInsert = 200;

    public async Task<IReadOnlyList<AppendedEvent>> WriteAsync(CancellationToken ct)
    {
        await FenceAsync(ct);
        var lastGlobal = await positions.TakeAsync(ct);
        var appended = new List<AppendedEvent>(batch.Events.Count);
        for (var i = 0; i < batch.Events.Count; i++)
        {
            appended.Add(new AppendedEvent(
                batch.Events[i].EventId,
                batch.ExpectedLastPosition + 1 + i,
                lastGlobal - batch.Events.Count + 1 + i));
        }
        await InsertEventsAsync(appended, ct);
        await InsertTransactionIdsAsync(ct);
        await InsertNotificationsAsync(appended, ct);
        await InsertRelationsAsync(appended, ct);
        await ApplyStateChangesAsync(ct);
        await ApplyRedactionsAsync(ct);
        await EventSearchIndexWriter.WriteAsync(db, connection, transaction, batch, appended, ct);
        await ClearForgottenAsync(ct);
        return appended;
    }

    private async Task FenceAsync(CancellationToken ct)
    {
        // The conditional update is the fence: a concurrent writer with the same expectation blocks on the
        // row lock, then re-reads the row and matches nothing.
        var fenced = await connection.Command(
                "UPDATE rooms SET last_position = @new WHERE room_id = @room AND last_position = @expected", transaction)
            .With("@room", batch.RoomId)
            .With("@expected", batch.ExpectedLastPosition)
            .With("@new", batch.ExpectedLastPosition + batch.Events.Count)
            .ExecuteAsync(ct);
        if (fenced == 1)
        {
            return;
        }
        var actual = await connection.Command("SELECT last_position FROM rooms WHERE room_id = @room", transaction)
            .With("@room", batch.RoomId)
            .ListAsync(r => r.GetInt64(0), ct);
        if (actual.Count == 0)
        {
            throw new EntityNotFoundException($"Room {batch.RoomId} does not exist.");
        }
        throw new ConcurrencyConflictException(batch.RoomId, batch.ExpectedLastPosition, actual[0]);
    }

    private async Task InsertEventsAsync(List<AppendedEvent> appended, CancellationToken ct)
    {
        for (var start = 0; start < batch.Events.Count; start += RowsPerInsert)
        {
            var end = Math.Min(start + RowsPerInsert, batch.Events.Count);
            var command = connection.Command("", transaction).With("@room", batch.RoomId);
            var sql = new StringBuilder(
                "INSERT INTO events (global_position, room_id, room_position, event_id, event_type, state_key, sender, " +
                "origin_server_ts, membership, redacted, json) VALUES ");
            for (var i = start; i < end; i++)
            {
                var e = batch.Events[i];
                sql.Append(i == start ? "" : ", ")
                    .Append($"(@g{i}, @room, @p{i}, @id{i}, @type{i}, @key{i}, @sender{i}, @ts{i}, @member{i}, FALSE, @json{i})");
                command.With($"@g{i}", appended[i].GlobalPosition)
                    .With($"@p{i}", appended[i].RoomPosition)
                    .With($"@id{i}", e.EventId)
                    .With($"@type{i}", e.Type)
                    .With($"@key{i}", e.StateKey)
                    .With($"@sender{i}", e.Sender)
                    .With($"@ts{i}", e.OriginServerTs)
                    .With($"@member{i}", e.Membership)
                    .With($"@json{i}", e.Json);
            }
            command.CommandText = sql.ToString();
            try
            {
                await command.ExecuteAsync(ct);
            }
            catch (DbException ex) when (db.IsUniqueViolation(ex))
            {
                throw new DuplicateEventException($"An event of the batch for {batch.RoomId} has an event id that is already stored.", ex);
            }
        }
    }

    private async Task InsertTransactionIdsAsync(CancellationToken ct)
    {
        var sent = batch.Events.Where(e => e.Transaction is not null).ToList();
        for (var start = 0; start < sent.Count; start += RowsPerInsert)
        {
            var end = Math.Min(start + RowsPerInsert, sent.Count);
            var command = connection.Command("", transaction).With("@room", batch.RoomId);
            var sql = new StringBuilder(
                "INSERT INTO event_transactions (room_id, user_id, device_id, txn_id, event_id, created_ts) VALUES ");
            for (var i = start; i < end; i++)
            {
                var e = sent[i];
                sql.Append(i == start ? "" : ", ").Append($"(@room, @user{i}, @device{i}, @txn{i}, @event{i}, @ts{i})");
                command.With($"@user{i}", e.Sender)
                    .With($"@device{i}", e.Transaction!.DeviceId)
                    .With($"@txn{i}", e.Transaction.TransactionId)
                    .With($"@event{i}", e.EventId)
                    .With($"@ts{i}", e.OriginServerTs);
            }
            command.CommandText = sql.ToString();
            try
            {
                await command.ExecuteAsync(ct);
            }
            catch (DbException ex) when (db.IsUniqueViolation(ex))
            {
                throw new DuplicateEventException(
                    $"An event of the batch for {batch.RoomId} reuses a client transaction id that is already stored.", ex);
            }
        }
    }

    private async Task InsertNotificationsAsync(List<AppendedEvent> appended, CancellationToken ct)
    {
        var rows = batch.Events
            .SelectMany((e, i) => e.Notifications.Select(n => (Notification: n, Event: e, Appended: appended[i])))
            .ToList();
        for (var start = 0; start < rows.Count; start += RowsPerInsert)
        {
            var end = Math.Min(start + RowsPerInsert, rows.Count);
            var command = connection.Command("", transaction).With("@room", batch.RoomId);
            var sql = new StringBuilder(
                "INSERT INTO push_notifications (user_id, room_id, room_position, global_position, event_id, thread_id, " +
                "highlight, actions, ts) VALUES ");
            for (var i = start; i < end; i++)
            {
                var (notification, e, at) = rows[i];
                sql.Append(i == start ? "" : ", ")
                    .Append($"(@u{i}, @room, @p{i}, @g{i}, @e{i}, @t{i}, @h{i}, @a{i}, @ts{i})");
                command.With($"@u{i}", notification.UserId)
                    .With($"@p{i}", at.RoomPosition)
                    .With($"@g{i}", at.GlobalPosition)
                    .With($"@e{i}", e.EventId)
                    .With($"@t{i}", notification.ThreadId)
                    .With($"@h{i}", notification.Highlight)
                    .With($"@a{i}", notification.Actions)
                    .With($"@ts{i}", e.OriginServerTs);
            }
            command.CommandText = sql.ToString();
            await command.ExecuteAsync(ct);
        }
    }

    /// <summary>
    /// Copies each relation from its parent's row, so that only a parent in the same room counts, and an edit only
    /// when the spec lets it replace the original: same sender and type, neither a state event, the original no edit.
    /// </summary>
    private async Task InsertRelationsAsync(List<AppendedEvent> appended, CancellationToken ct)
    {
        for (var i = 0; i < batch.Events.Count; i++)
        {
            var e = batch.Events[i];
            if (e.Relation is not { } relation) continue;
            await connection.Command(
                    "INSERT INTO event_relations (event_id, room_id, parent_event_id, rel_type, event_type, sender, room_position) " +
                    "SELECT @event, @room, p.event_id, @rel, @type, @sender, @position FROM events p " +
                    "WHERE p.event_id = @parent AND p.room_id = @room AND p.event_id <> @event AND (@rel <> 'm.replace' OR " +
                    "(p.sender = @sender AND p.event_type = @type AND p.state_key IS NULL AND @isState = 0 AND NOT EXISTS " +
                    "(SELECT 1 FROM event_relations o WHERE o.event_id = p.event_id AND o.rel_type = 'm.replace')))",
                    transaction)
                .With("@event", e.EventId)
                .With("@room", batch.RoomId)
                .With("@parent", relation.ParentEventId)
                .With("@rel", relation.RelType)
                .With("@type", e.Type)
                .With("@sender", e.Sender)
                .With("@position", appended[i].RoomPosition)
                .With("@isState", e.StateKey is null ? 0 : 1)
                .ExecuteAsync(ct);
        }
    }

    private async Task ApplyStateChangesAsync(CancellationToken ct)
    {
        foreach (var change in batch.StateChanges)
        {
            if (change.EventId is null)
            {
                await connection.Command(
                        "DELETE FROM current_state WHERE room_id = @room AND event_type = @type AND state_key = @key", transaction)
                    .With("@room", batch.RoomId)
                    .With("@type", change.EventType)
                    .With("@key", change.StateKey)
                    .ExecuteAsync(ct);
                continue;
            }
            // Copying from the event row checks that the event is in this room and fills this very slot.
            var changed = await connection.Command(
                    "INSERT INTO current_state (room_id, event_type, state_key, event_id, membership) " +
                    "SELECT e.room_id, e.event_type, e.state_key, e.event_id, e.membership FROM events e " +
                    "WHERE e.event_id = @event AND e.room_id = @room AND e.event_type = @type AND e.state_key = @key " +
                    "ON CONFLICT (room_id, event_type, state_key) " +
                    "DO UPDATE SET event_id = excluded.event_id, membership = excluded.membership",
                    transaction)
                .With("@room", batch.RoomId)
                .With("@type", change.EventType)
                .With("@key", change.StateKey)
                .With("@event", change.EventId)
                .ExecuteAsync(ct);
            if (changed != 1)
            {
                throw new EntityNotFoundException(
                    $"State slot ({change.EventType}, {change.StateKey}) of {batch.RoomId} names event {change.EventId}, " +
                    "which is not a state event of that type and key in the room.");
            }
        }
    }

    /// <summary>A new membership event of a user in the room ends that user's forgetting of it.</summary>
    private async Task ClearForgottenAsync(CancellationToken ct)
    {
        foreach (var userId in batch.Events.Where(e => e.Membership is not null).Select(e => e.StateKey!).Distinct())
        {
            await connection.Command("DELETE FROM forgotten_rooms WHERE user_id = @user AND room_id = @room", transaction)
                .With("@user", userId)
                .With("@room", batch.RoomId)
                .ExecuteAsync(ct);
        }
    }

    private async Task ApplyRedactionsAsync(CancellationToken ct)
    {
        foreach (var redaction in batch.Redactions)
        {
            var redacted = await connection.Command(
                    "UPDATE events SET json = @json, redacted = TRUE WHERE event_id = @event AND room_id = @room", transaction)
                .With("@room", batch.RoomId)
                .With("@event", redaction.EventId)
                .With("@json", redaction.RedactedJson)
                .ExecuteAsync(ct);
            if (redacted != 1)
            {
                throw new EntityNotFoundException($"Redacted event {redaction.EventId} is not in room {batch.RoomId}.");
            }
            await connection.Command("DELETE FROM event_relations WHERE event_id = @event", transaction)
                .With("@event", redaction.EventId)
                .ExecuteAsync(ct);
        }
    }
}
