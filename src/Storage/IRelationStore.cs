namespace HomeServer.Storage;

/// <summary>
/// The relations between events (<c>m.relates_to</c>), recorded by <see cref="IRoomEventStore.AppendAsync"/> for each
/// <see cref="NewEvent.Relation"/> whose parent qualifies and removed when the child is redacted.
/// </summary>
public interface IRelationStore
{
    /// <summary>
    /// The events relating to the parent, directly or (with <see cref="RelationQuery.Depth"/> above 1) through a chain
    /// of up to that many relations, that match the optional relation and event types; up to
    /// <see cref="RelationQuery.Limit"/> of them, by room position strictly after <see cref="RelationQuery.FromPosition"/>
    /// ascending (Forward) or at and below it descending (Backward), never past <see cref="RelationQuery.ToPosition"/>.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> GetRelatedEventsAsync(RelationQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> thread roots of the room whose latest reply is below
    /// <paramref name="beforePosition"/>, latest reply first; only the threads <paramref name="participant"/> started
    /// or replied to when given.
    /// </summary>
    Task<IReadOnlyList<ThreadRoot>> GetThreadRootsAsync(
        string roomId, long beforePosition, string? participant, int limit, CancellationToken cancellationToken);

    /// <summary>What the bundled aggregations of the given parents need, for the reader <paramref name="userId"/>.</summary>
    Task<IReadOnlyDictionary<string, RelationAggregation>> GetAggregationsAsync(
        string roomId, IReadOnlyCollection<string> parentEventIds, string userId, CancellationToken cancellationToken);
}

public sealed record RelationQuery(
    string RoomId, string ParentEventId, string? RelType, string? EventType, long FromPosition, long? ToPosition,
    Direction Direction, int Limit, int Depth = 1);

/// <param name="LatestPosition">The room position of the thread's latest reply.</param>
public sealed record ThreadRoot(string EventId, long LatestPosition);

/// <param name="ThreadCount">Replies in the thread rooted at the parent (0 when none).</param>
/// <param name="LatestThreadEvent">The thread's latest reply, when there is one.</param>
/// <param name="UserRepliedInThread">Whether the reader sent a reply in the thread.</param>
/// <param name="LatestEdit">The most recent valid edit (origin_server_ts, then event id), when there is one.</param>
/// <param name="References">The ids of the events referencing the parent (m.reference), oldest first.</param>
public sealed record RelationAggregation(
    int ThreadCount, StoredEvent? LatestThreadEvent, bool UserRepliedInThread, StoredEvent? LatestEdit, IReadOnlyList<string> References);
