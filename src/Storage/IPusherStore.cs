namespace HomeServer.Storage;

/// <summary>
/// Pushers: where a user's notifications are delivered (/pushers/set). One per (user, app id, pushkey). A pusher
/// remembers the device that set it; deleting that device (or all of the user's devices) deletes the pusher.
/// </summary>
public interface IPusherStore
{
    /// <summary>
    /// Adds or replaces the user's pusher of (app id, pushkey). Unless <paramref name="append"/>, the pushers of other
    /// users with the same app id and pushkey are removed in the same transaction.
    /// </summary>
    Task SetPusherAsync(StoredPusher pusher, bool append, CancellationToken cancellationToken);

    /// <summary>Deletes the user's pusher of (app id, pushkey); false if there was none.</summary>
    Task<bool> DeletePusherAsync(string userId, string appId, string pushkey, CancellationToken cancellationToken);

    /// <summary>The user's pushers, ordered by app id then pushkey.</summary>
    Task<IReadOnlyList<StoredPusher>> GetPushersAsync(string userId, CancellationToken cancellationToken);

    /// <summary>The pushers of any of the users (at most <see cref="StoreLimits.MaxRoomsPerQuery"/>), ordered by user, app id, pushkey.</summary>
    Task<IReadOnlyList<StoredPusher>> GetPushersOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);
}

/// <param name="Data">The pusher's data as a UTF-8 JSON object.</param>
/// <param name="DeviceId">The device whose access token set the pusher, if known.</param>
/// <param name="PushkeyTs">When the pushkey was last set, in milliseconds since the epoch.</param>
public sealed record StoredPusher(
    string UserId, string AppId, string Pushkey, string Kind, string AppDisplayName, string DeviceDisplayName,
    string? ProfileTag, string Lang, byte[] Data, string? DeviceId, long PushkeyTs);
