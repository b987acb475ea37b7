using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>Writes one validated <see cref="EventBatch"/> inside the caller's transaction.</summary>
internal sealed class EventBatchWriter(
    SqlDatabase db, DbConnection connection, DbTransaction transaction, EventBatch batch, EventPositionLease positions)
{
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
        if (batch.ForwardExtremities is { } extremities) await SqlRoomForkStore.ReplaceAsync(connection, transaction, batch.RoomId, extremities, ct);
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
        var events = batch.Events;
        var rows = new BulkRows("events", events.Count)
            .BigInt("global_position", i => appended[i].GlobalPosition)
            .Text("room_id", _ => batch.RoomId)
            .BigInt("room_position", i => appended[i].RoomPosition)
            .Text("event_id", i => events[i].EventId)
            .Text("event_type", i => events[i].Type)
            .Text("state_key", i => events[i].StateKey)
            .Text("sender", i => events[i].Sender)
            .BigInt("origin_server_ts", i => events[i].OriginServerTs)
            .Text("membership", i => events[i].Membership)
            .Boolean("redacted", _ => false)
            .Bytes("json", i => events[i].Json);
        try
        {
            await db.InsertAsync(connection, transaction, rows, ct);
        }
        catch (DbException ex) when (db.IsUniqueViolation(ex))
        {
            throw new DuplicateEventException($"An event of the batch for {batch.RoomId} has an event id that is already stored.", ex);
        }
    }

    private async Task InsertTransactionIdsAsync(CancellationToken ct)
    {
        var sent = batch.Events.Where(e => e.Transaction is not null).ToList();
        var rows = new BulkRows("event_transactions", sent.Count)
            .Text("room_id", _ => batch.RoomId)
            .Text("user_id", i => sent[i].Sender)
            .Text("device_id", i => sent[i].Transaction!.DeviceId)
            .Text("txn_id", i => sent[i].Transaction!.TransactionId)
            .Text("event_id", i => sent[i].EventId)
            .BigInt("created_ts", i => sent[i].OriginServerTs);
        try
        {
            await db.InsertAsync(connection, transaction, rows, ct);
        }
        catch (DbException ex) when (db.IsUniqueViolation(ex))
        {
            throw new DuplicateEventException(
                $"An event of the batch for {batch.RoomId} reuses a client transaction id that is already stored.", ex);
        }
    }

    private Task InsertNotificationsAsync(List<AppendedEvent> appended, CancellationToken ct)
    {
        var notified = batch.Events
            .SelectMany((e, i) => e.Notifications.Select(n => (Notification: n, Event: e, Appended: appended[i])))
            .ToList();
        var rows = new BulkRows("push_notifications", notified.Count)
            .Text("user_id", i => notified[i].Notification.UserId)
            .Text("room_id", _ => batch.RoomId)
            .BigInt("room_position", i => notified[i].Appended.RoomPosition)
            .BigInt("global_position", i => notified[i].Appended.GlobalPosition)
            .Text("event_id", i => notified[i].Event.EventId)
            .Text("thread_id", i => notified[i].Notification.ThreadId)
            .Boolean("highlight", i => notified[i].Notification.Highlight)
            .Bytes("actions", i => notified[i].Notification.Actions)
            .BigInt("ts", i => notified[i].Event.OriginServerTs);
        return db.InsertAsync(connection, transaction, rows, ct);
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
