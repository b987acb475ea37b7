namespace HomeServer.Storage;

/// <summary>An event of a room's history older than the room's event log here, as another server gave it.</summary>
public sealed record BackfilledEvent(
    string EventId, string Type, string? StateKey, string Sender, long OriginServerTs, string? Membership, bool Redacted, byte[] Json);

/// <summary>How far a room's history before its event log has been fetched.</summary>
/// <param name="OldestPosition">The position of the oldest backfilled event; 0 when there is none.</param>
/// <param name="Complete">No older history will be asked for: the room's creation was reached or the servers had nothing more.</param>
public sealed record BackfillProgress(long OldestPosition, bool Complete);

/// <summary>
/// History of a room fetched from other servers (docs/adr/0044-backfill.md), kept apart from the event log: its events
/// have no global position (sync and outbound federation never see them) and per-room positions below zero, -1 for the
/// newest, decreasing with age, so that they order before every event of the log (positions 1, 2, ...).
/// </summary>
public interface IRoomBackfillStore
{
    /// <summary>
    /// Stores <paramref name="newestFirst"/> as older than every event stored so far for the room (positions continuing
    /// downwards in the given order), skipping events of the room already stored, in one transaction; with
    /// <paramref name="complete"/> the room's backfill is marked complete. Returns how many events were added.
    /// </summary>
    Task<int> AddOlderAsync(string roomId, IReadOnlyList<BackfilledEvent> newestFirst, bool complete, CancellationToken cancellationToken);

    Task<BackfillProgress> GetProgressAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> backfilled events of the room strictly after (Forward, ascending) or strictly
    /// before (Backward, descending) the position <paramref name="fromPosition"/>, as <see cref="StoredEvent"/>s with
    /// their (negative) room position and global position 0.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> GetEventsAsync(string roomId, long fromPosition, Direction direction, int limit, CancellationToken cancellationToken);

    Task<StoredEvent?> GetEventAsync(string roomId, string eventId, CancellationToken cancellationToken);
}
