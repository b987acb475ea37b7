namespace HomeServer.Storage;

/// <summary>
/// What a room needs beyond its timeline once other servers write into it concurrently (ADR 0041): the forward
/// extremities of a forked room (written with the events, <see cref="EventBatch.ForwardExtremities"/>) and the events
/// soft-failed against its current state. A linear room has nothing here.
/// </summary>
public interface IRoomForkStore
{
    /// <summary>The room's forward extremities if it has more than one (or its one is not its newest event); else empty.</summary>
    Task<IReadOnlyList<ForwardExtremityRow>> GetForwardExtremitiesAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Keeps a soft-failed event; storing the same event again changes nothing.</summary>
    Task StoreSoftFailedAsync(SoftFailedEvent softFailed, long receivedTs, CancellationToken cancellationToken);

    Task<SoftFailedEvent?> GetSoftFailedAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>Keeps a rejected event (docs/adr/0047); storing the same event again changes nothing.</summary>
    Task StoreRejectedAsync(RejectedEvent rejected, long receivedTs, CancellationToken cancellationToken);

    Task<RejectedEvent?> GetRejectedAsync(string eventId, CancellationToken cancellationToken);
}
