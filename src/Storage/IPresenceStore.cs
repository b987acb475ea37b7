namespace HomeServer.Storage;

/// <summary>
/// The presence of each user, one row per user; each change takes the next position of the presence stream, so sync
/// can ask which of the users sharing a room with someone changed since a position.
/// </summary>
public interface IPresenceStore
{
    /// <summary>Stores or replaces the user's presence and returns its new stream position.</summary>
    Task<long> SetPresenceAsync(NewPresence presence, CancellationToken cancellationToken);

    /// <summary>
    /// Stores or replaces the presence of several distinct users in one transaction (one position allocation for all),
    /// and returns their new stream positions, ascending in the list's order. Nothing is stored if one is invalid.
    /// </summary>
    Task<IReadOnlyList<long>> SetPresencesAsync(IReadOnlyList<NewPresence> presences, CancellationToken cancellationToken);

    /// <summary>The user's stored presence, or null when none was ever stored.</summary>
    Task<StoredPresence?> GetPresenceAsync(string userId, CancellationToken cancellationToken);

    /// <summary>The stored presence of those of the users that have one, in no particular order.</summary>
    Task<IReadOnlyList<StoredPresence>> GetPresenceAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>
    /// The presence written after <paramref name="sincePosition"/> and at most at <paramref name="upToPosition"/> of the
    /// user itself and of every user joined to a room the user is joined to, ascending by position.
    /// </summary>
    Task<IReadOnlyList<StoredPresence>> GetPeerPresenceChangesAsync(
        string userId, long sincePosition, long upToPosition, CancellationToken cancellationToken);

    /// <summary>The stored presence of the users joined to the rooms, in no particular order.</summary>
    Task<IReadOnlyList<StoredPresence>> GetPresenceOfRoomMembersAsync(IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken);

    /// <summary>The users joined to a room the user is joined to, the user included when joined anywhere.</summary>
    Task<IReadOnlyList<string>> GetRoomPeersAsync(string userId, CancellationToken cancellationToken);

    /// <summary>The users joined to a room any of the users is joined to (those users included when joined anywhere), in no particular order.</summary>
    Task<IReadOnlyList<string>> GetRoomPeersOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>The highest presence stream position written so far (0 when none).</summary>
    Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken);
}

/// <param name="Presence">online, unavailable or offline.</param>
/// <param name="LastActiveTs">When the user was last active, in ms since the epoch (0: never).</param>
public sealed record NewPresence(string UserId, string Presence, string? StatusMessage, long LastActiveTs);

public sealed record StoredPresence(string UserId, string Presence, string? StatusMessage, long LastActiveTs, long StreamPosition);
