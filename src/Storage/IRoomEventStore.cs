namespace HomeServer.Storage;

/// <summary>
/// The event log. Each room has its own strictly increasing position (1, 2, 3, ...); every event also
/// gets a global position, increasing across all rooms, usable as a sync position: once a global
/// position is visible to a reader, every smaller one that will ever exist is visible too.
/// </summary>
public interface IRoomEventStore
{
    /// <summary>
    /// Appends the batch in one transaction: the events (positions ExpectedLastPosition + 1, + 2, ...),
    /// their client transaction ids, the current-state changes and the redactions. Fenced: throws
    /// <see cref="ConcurrencyConflictException"/> when the room's last position is no longer
    /// <see cref="EventBatch.ExpectedLastPosition"/>, so of two writers that saw the same position exactly one
    /// succeeds. Throws <see cref="DuplicateEventException"/> for a known event id or transaction id and
    /// <see cref="EntityNotFoundException"/> for an unknown room or a state change or redaction naming an
    /// event that is not in the room. On any failure nothing is written.
    /// </summary>
    Task<IReadOnlyList<AppendedEvent>> AppendAsync(EventBatch batch, CancellationToken cancellationToken);

    Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> events of the room strictly after (Forward, ascending) or strictly
    /// before (Backward, descending) the per-room position <paramref name="fromPosition"/>, in that order.
    /// Forward from 0 starts at the first event; Backward from <see cref="long.MaxValue"/> at the newest.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> GetRoomEventsAsync(
        string roomId, long fromPosition, Direction direction, int limit, CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="limit"/> events of the room, oldest first.</summary>
    Task<IReadOnlyList<StoredEvent>> GetLatestEventsAsync(string roomId, int limit, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> events of the given rooms with a global position above <paramref name="afterGlobalPosition"/>, ascending.</summary>
    Task<IReadOnlyList<StoredEvent>> GetEventsAfterAsync(
        IReadOnlyCollection<string> roomIds, long afterGlobalPosition, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Where the events with a global position above <paramref name="afterGlobalPosition"/> and at most
    /// <paramref name="upToGlobalPosition"/> are (their room, and the user a member event is about), ascending, at most
    /// <paramref name="limit"/>: what a reader needs to tell which positions concern a given user without reading the events.
    /// </summary>
    Task<IReadOnlyList<EventPlace>> GetEventPlacesAsync(
        long afterGlobalPosition, long upToGlobalPosition, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The global position up to which every event is persisted (0 when there are no events): a reader that reads up to
    /// it and never past it skips nothing, even while appends of other rooms are still in flight. Never decreases.
    /// </summary>
    Task<long> GetMaxGlobalPositionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The highest global position handed to an append so far, committed or not: no event a read can see has a higher
    /// one. At or above <see cref="GetMaxGlobalPositionAsync"/>.
    /// </summary>
    Task<long> GetAllocatedGlobalPositionAsync(CancellationToken cancellationToken);
}
