namespace HomeServer.Storage;

/// <summary>An event to append, with its JSON stored verbatim.</summary>
/// <param name="Json">The complete event as UTF-8 JSON (an object).</param>
public sealed record NewEvent(
    string EventId,
    string Type,
    string? StateKey,
    string Sender,
    long OriginServerTs,
    byte[] Json)
{
    /// <summary>content.membership; required for m.room.member events, null for every other type.</summary>
    public string? Membership { get; init; }

    /// <summary>The sender's device and transaction id when the event came from a client send.</summary>
    public ClientTransaction? Transaction { get; init; }

    /// <summary>The notifications the event causes, stored with it in the same transaction.</summary>
    public IReadOnlyList<NewNotification> Notifications { get; init; } = [];
    /// <summary>content.m.relates_to when it names a rel_type and a parent event; recorded only when the parent qualifies.</summary>
    public EventRelation? Relation { get; init; }
}

public sealed record EventRelation(string ParentEventId, string RelType);

public sealed record ClientTransaction(string DeviceId, string TransactionId);

/// <summary>Points the (type, state key) slot of the current state at an event of the room, or clears it when EventId is null.</summary>
public sealed record StateChange(string EventType, string StateKey, string? EventId);

/// <summary>Replaces an event's JSON with its redacted form and flags it redacted.</summary>
public sealed record Redaction(string EventId, byte[] RedactedJson);

/// <param name="ExpectedLastPosition">The room's last per-room position as the writer last saw it (the fence).</param>
public sealed record EventBatch(string RoomId, long ExpectedLastPosition, IReadOnlyList<NewEvent> Events)
{
    public IReadOnlyList<StateChange> StateChanges { get; init; } = [];

    public IReadOnlyList<Redaction> Redactions { get; init; } = [];

    /// <summary>
    /// The room's forward extremities after the batch, when they are not just its newest event (see
    /// <see cref="IRoomForkStore"/>): null leaves them as they are, an empty list makes the room linear again.
    /// </summary>
    public IReadOnlyList<ForwardExtremityRow>? ForwardExtremities { get; init; }
}

/// <summary>A forward extremity of a forked room and the state after it (JSON array of [type, state_key, event_id]).</summary>
public sealed record ForwardExtremityRow(string EventId, byte[] StateAfter);

/// <summary>An event kept outside the timeline because it failed against the room's current state (soft failure).</summary>
public sealed record SoftFailedEvent(string EventId, string RoomId, byte[] Json);

/// <summary>An event another server sent that failed the authorization rules: known as rejected, never in the timeline.</summary>
public sealed record RejectedEvent(string EventId, string RoomId, byte[] Json, string Reason);

/// <summary>Where an event is: its global position, its room, and for a member event the user it is about (else null).</summary>
public sealed record EventPlace(long GlobalPosition, string RoomId, string? MemberUserId);

public sealed record AppendedEvent(string EventId, long RoomPosition, long GlobalPosition);

public sealed record StoredEvent(
    string RoomId,
    long RoomPosition,
    long GlobalPosition,
    string EventId,
    string Type,
    string? StateKey,
    string Sender,
    long OriginServerTs,
    string? Membership,
    bool Redacted,
    byte[] Json);

public sealed record MembershipEntry(string RoomId, string UserId, string Membership, string EventId);

public enum Direction
{
    Forward,
    Backward,
}
