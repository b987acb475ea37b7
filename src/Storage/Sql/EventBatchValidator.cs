namespace HomeServer.Storage.Sql;

/// <summary>Rejects a malformed batch before the transaction starts, so a bad batch writes nothing.</summary>
internal static class EventBatchValidator
{
    public const string MemberEventType = "m.room.member";

    public static void Validate(EventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Guard.Identifier(batch.RoomId, nameof(batch.RoomId));
        Guard.Position(batch.ExpectedLastPosition, nameof(batch.ExpectedLastPosition));
        ArgumentNullException.ThrowIfNull(batch.Events, nameof(batch.Events));
        ArgumentNullException.ThrowIfNull(batch.StateChanges, nameof(batch.StateChanges));
        ArgumentNullException.ThrowIfNull(batch.Redactions, nameof(batch.Redactions));
        ArgumentOutOfRangeException.ThrowIfLessThan(batch.Events.Count, 1, nameof(batch.Events));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch.Events.Count, StoreLimits.MaxEventsPerBatch, nameof(batch.Events));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch.StateChanges.Count, StoreLimits.MaxEventsPerBatch, nameof(batch.StateChanges));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch.Redactions.Count, StoreLimits.MaxEventsPerBatch, nameof(batch.Redactions));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(
            batch.ExpectedLastPosition, long.MaxValue - batch.Events.Count, nameof(batch.ExpectedLastPosition));

        var eventIds = new HashSet<string>(StringComparer.Ordinal);
        var transactions = new HashSet<(string, string, string)>();
        foreach (var e in batch.Events)
        {
            ValidateEvent(e);
            if (e.Relation is { } relation)
            {
                Guard.Identifier(relation.ParentEventId, nameof(relation.ParentEventId));
                Guard.Identifier(relation.RelType, nameof(relation.RelType));
            }
            if (!eventIds.Add(e.EventId))
            {
                throw new ArgumentException($"Event id {e.EventId} appears twice in the batch.", nameof(batch.Events));
            }
            if (e.Transaction is { } t && !transactions.Add((e.Sender, t.DeviceId, t.TransactionId)))
            {
                throw new ArgumentException($"Transaction id {t.TransactionId} appears twice in the batch.", nameof(batch.Events));
            }
        }

        var slots = new HashSet<(string, string)>();
        foreach (var change in batch.StateChanges)
        {
            ArgumentNullException.ThrowIfNull(change, nameof(batch.StateChanges));
            Guard.Identifier(change.EventType, nameof(change.EventType));
            ArgumentNullException.ThrowIfNull(change.StateKey, nameof(change.StateKey));
            Guard.OptionalText(change.StateKey, StoreLimits.MaxIdentifierBytes, nameof(change.StateKey));
            Guard.OptionalIdentifier(change.EventId, nameof(change.EventId));
            if (!slots.Add((change.EventType, change.StateKey)))
            {
                throw new ArgumentException(
                    $"State slot ({change.EventType}, {change.StateKey}) is changed twice in the batch.", nameof(batch.StateChanges));
            }
        }

        ValidateExtremities(batch);

        var redacted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var redaction in batch.Redactions)
        {
            ArgumentNullException.ThrowIfNull(redaction, nameof(batch.Redactions));
            Guard.Identifier(redaction.EventId, nameof(redaction.EventId));
            Guard.JsonObject(redaction.RedactedJson, StoreLimits.MaxEventJsonBytes, nameof(redaction.RedactedJson));
            if (!redacted.Add(redaction.EventId))
            {
                throw new ArgumentException($"Event {redaction.EventId} is redacted twice in the batch.", nameof(batch.Redactions));
            }
        }
    }

    private static void ValidateExtremities(EventBatch batch)
    {
        if (batch.ForwardExtremities is not { } extremities) return;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(extremities.Count, StoreLimits.MaxEventsPerBatch, nameof(batch.ForwardExtremities));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extremity in extremities)
        {
            ArgumentNullException.ThrowIfNull(extremity, nameof(batch.ForwardExtremities));
            Guard.Identifier(extremity.EventId, nameof(extremity.EventId));
            ArgumentNullException.ThrowIfNull(extremity.StateAfter, nameof(extremity.StateAfter));
            if (!ids.Add(extremity.EventId))
                throw new ArgumentException($"Forward extremity {extremity.EventId} appears twice in the batch.", nameof(batch.ForwardExtremities));
        }
    }

    private static void ValidateEvent(NewEvent e)
    {
        ArgumentNullException.ThrowIfNull(e, "event");
        Guard.Identifier(e.EventId, nameof(e.EventId));
        Guard.Identifier(e.Type, nameof(e.Type));
        Guard.OptionalText(e.StateKey, StoreLimits.MaxIdentifierBytes, nameof(e.StateKey));
        Guard.Identifier(e.Sender, nameof(e.Sender));
        Guard.JsonObject(e.Json, StoreLimits.MaxEventJsonBytes, nameof(e.Json));
        if (e.Type == MemberEventType)
        {
            if (e.StateKey is null)
            {
                throw new ArgumentException($"{MemberEventType} event {e.EventId} has no state key.", nameof(e.StateKey));
            }
            Guard.Identifier(e.Membership, nameof(e.Membership));
        }
        else if (e.Membership is not null)
        {
            throw new ArgumentException($"Only {MemberEventType} events carry a membership.", nameof(e.Membership));
        }
        if (e.Transaction is { } t)
        {
            Guard.Identifier(t.DeviceId, nameof(t.DeviceId));
            Guard.Identifier(t.TransactionId, nameof(t.TransactionId));
        }
    }
}
