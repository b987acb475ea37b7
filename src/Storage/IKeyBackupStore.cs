namespace HomeServer.Storage;

/// <summary>
/// Server-side key backups: per user, numbered backup versions (1, 2, …, never reused) holding encrypted megolm session
/// keys. The current version is the highest one not deleted. Which of two keys of a session is better is the caller's
/// rule, applied inside the write so that concurrent writers cannot both win.
/// </summary>
public interface IKeyBackupStore
{
    /// <summary>
    /// Creates the user's next version, one above the highest ever created (deleted ones included), which becomes the
    /// current one. Throws <see cref="EntityNotFoundException"/> for an unknown user.
    /// </summary>
    Task<long> CreateVersionAsync(string userId, string algorithm, byte[] authData, CancellationToken cancellationToken);

    /// <summary>The version with its key count and etag, or null when it was never created or is deleted.</summary>
    Task<StoredBackupVersion?> GetVersionAsync(string userId, long version, CancellationToken cancellationToken);

    /// <summary>The current version (the highest not deleted), or null when the user has none.</summary>
    Task<StoredBackupVersion?> GetCurrentVersionAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Replaces the auth data of a version that is not deleted; false when there is no such version.</summary>
    Task<bool> UpdateAuthDataAsync(string userId, long version, byte[] authData, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the version deleted and removes its keys. True when the version exists, whether or not it was deleted
    /// already; false when it was never created.
    /// </summary>
    Task<bool> DeleteVersionAsync(string userId, long version, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the keys in the version, provided it is still the user's current version (null otherwise, and nothing is
    /// written). A key of a session already stored replaces it only when <paramref name="replaces"/>(stored, offered)
    /// says so. The etag moves on when any key was written.
    /// </summary>
    Task<BackupKeysState?> PutKeysAsync(
        string userId, long version, IReadOnlyList<BackupSessionKey> keys, Func<BackupSessionKey, BackupSessionKey, bool> replaces,
        CancellationToken cancellationToken);

    /// <summary>
    /// The keys of a version that is not deleted: all of them, one room's (<paramref name="roomId"/>) or one session's
    /// (<paramref name="roomId"/> and <paramref name="sessionId"/>), ordered by room and session.
    /// </summary>
    Task<IReadOnlyList<BackupSessionKey>> GetKeysAsync(
        string userId, long version, string? roomId, string? sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes keys as <see cref="GetKeysAsync"/> selects them; the etag moves on when any was deleted. Null when the
    /// version was never created or is deleted.
    /// </summary>
    Task<BackupKeysState?> DeleteKeysAsync(
        string userId, long version, string? roomId, string? sessionId, CancellationToken cancellationToken);
}

/// <param name="AuthData">The version's auth_data, a JSON object.</param>
/// <param name="Etag">Counts the changes of the version's keys.</param>
/// <param name="Count">How many keys the version holds.</param>
public sealed record StoredBackupVersion(string UserId, long Version, string Algorithm, byte[] AuthData, long Etag, long Count);

/// <param name="SessionData">The client's encrypted key, a JSON object.</param>
public sealed record BackupSessionKey(
    string RoomId, string SessionId, long FirstMessageIndex, long ForwardedCount, bool IsVerified, byte[] SessionData);

/// <summary>A version's etag and key count after a write.</summary>
public sealed record BackupKeysState(long Etag, long Count);
