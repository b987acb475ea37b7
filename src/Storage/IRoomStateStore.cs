namespace HomeServer.Storage;

/// <summary>
/// Current room state, (room, event type, state key) to event, as maintained by
/// <see cref="IRoomEventStore.AppendAsync"/>; membership is read from the m.room.member entries.
/// </summary>
public interface IRoomStateStore
{
    /// <summary>The room's current state events, ordered by type then state key.</summary>
    Task<IReadOnlyList<StoredEvent>> GetCurrentStateAsync(string roomId, CancellationToken cancellationToken);

    Task<StoredEvent?> GetStateEventAsync(string roomId, string eventType, string stateKey, CancellationToken cancellationToken);

    /// <summary>The user's current memberships, optionally only those in <paramref name="memberships"/>, ordered by room id.</summary>
    Task<IReadOnlyList<MembershipEntry>> GetRoomsOfUserAsync(
        string userId, IReadOnlyCollection<string>? memberships, CancellationToken cancellationToken);

    /// <summary>The room's members, optionally only those with <paramref name="membership"/>, ordered by user id.</summary>
    Task<IReadOnlyList<MembershipEntry>> GetMembersAsync(string roomId, string? membership, CancellationToken cancellationToken);
}
