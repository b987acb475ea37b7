namespace HomeServer.Storage;

/// <summary>
/// What outbound federation must remember per other server (docs/adr/0035-outbound-federation-transactions.md): the
/// global event position up to which it has been sent every event it is owed, and per room the window of events owed
/// to it. The events themselves stay in the event log.
/// </summary>
public interface IFederationDestinationStore
{
    /// <summary>The destination's record with its room windows; null when it was never owed anything.</summary>
    Task<FederationDestinationRecord?> GetAsync(string destination, CancellationToken cancellationToken);

    /// <summary>Every destination with a record, for the catch-up after a start.</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes the room's events above <paramref name="sincePosition"/> owed to the destination. A window still open is
    /// left as it is; a closed one (the server had left) is opened again from <paramref name="sincePosition"/>. When a
    /// window opens, the acknowledged position goes back to <paramref name="sincePosition"/> if it was past it, so no
    /// event of the window is skipped. A new destination starts acknowledged at <paramref name="sincePosition"/>.
    /// </summary>
    /// <returns>True when a window was opened.</returns>
    Task<bool> OpenRoomAsync(string destination, string roomId, long sincePosition, CancellationToken cancellationToken);

    /// <summary>Ends the room's window at <paramref name="untilPosition"/> (included): the server has no member joined any more.</summary>
    Task CloseRoomAsync(string destination, string roomId, long untilPosition, CancellationToken cancellationToken);

    /// <summary>
    /// Records that everything owed up to <paramref name="ackedPosition"/> was sent and answered (never moves back)
    /// and forgets the closed windows that end at or before it.
    /// </summary>
    Task SetAckedAsync(string destination, long ackedPosition, CancellationToken cancellationToken);

    /// <summary>Marks the destination failing since <paramref name="sinceTs"/> (ms), or no longer failing (null).</summary>
    Task SetFailingSinceAsync(string destination, long? sinceTs, CancellationToken cancellationToken);

    /// <summary>
    /// How many events of the destination's windows have a global position above <paramref name="afterGlobalPosition"/>
    /// and at most <paramref name="upToGlobalPosition"/>, counting no further than <paramref name="limit"/>: the backlog
    /// that decides whether a destination catches up with the newest event per room (docs/adr/0042).
    /// </summary>
    Task<int> CountOwedEventsAsync(string destination, long afterGlobalPosition, long upToGlobalPosition, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// For each room of the destination's windows with a room id after <paramref name="afterRoomId"/> (ordinal; "" for the
    /// first), in room id order and at most <paramref name="limit"/> rooms: the room's newest event inside its window with
    /// a global position above <paramref name="afterGlobalPosition"/> and at most <paramref name="upToGlobalPosition"/>.
    /// Rooms without such an event are left out.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> GetNewestOwedEventsAsync(
        string destination, long afterGlobalPosition, long upToGlobalPosition, string afterRoomId, int limit, CancellationToken cancellationToken);
}

public sealed record FederationDestinationRecord(
    string Destination, long AckedPosition, long? FailingSinceTs, IReadOnlyList<FederationRoomWindow> Rooms);

/// <summary>The room's events owed to a destination: global positions above <see cref="SincePosition"/>, up to <see cref="UntilPosition"/> when set.</summary>
public sealed record FederationRoomWindow(string RoomId, long SincePosition, long? UntilPosition)
{
    public bool Contains(long globalPosition) => globalPosition > SincePosition && (UntilPosition is not { } until || globalPosition <= until);
}
