using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.KeyBackups;

/// <summary>The backup algorithms of the spec's server-side key backups module.</summary>
public static class KeyBackupAlgorithms
{
    public const string MegolmBackupV1 = "m.megolm_backup.v1.curve25519-aes-sha2";
}

/// <summary>A backup version as GET /room_keys/version describes it.</summary>
/// <param name="AuthData">The auth_data JSON object as the client gave it.</param>
[GenerateSerializer, Immutable, Alias("hs.KeyBackupVersion")]
public sealed record KeyBackupVersion(string Version, string Algorithm, byte[] AuthData, long Count, string Etag);

/// <summary>One backed-up megolm session key (the spec's KeyBackupData, with its room and session).</summary>
/// <param name="SessionData">The client's encrypted session_data, a JSON object.</param>
[GenerateSerializer, Immutable, Alias("hs.BackedUpKey")]
public sealed record BackedUpKey(string RoomId, string SessionId, long FirstMessageIndex, long ForwardedCount, bool IsVerified, byte[] SessionData);

/// <summary>The spec's RoomKeysUpdateResponse: the backup's etag and key count after a write.</summary>
[GenerateSerializer, Immutable, Alias("hs.KeyBackupState")]
public sealed record KeyBackupState(string Etag, long Count);

/// <summary>What an upload did: stored (with the new state), or refused because the version is not the current one.</summary>
/// <param name="CurrentVersion">Set, and nothing stored, when the upload named a version older than the current one.</param>
[GenerateSerializer, Immutable, Alias("hs.KeyBackupUpload")]
public sealed record KeyBackupUpload(KeyBackupState? State, string? CurrentVersion);

/// <summary>
/// One user's server-side key backups (key: the full user id). Versions are opaque strings to clients; an unknown or
/// deleted version is <see cref="MatrixRequestException"/> M_NOT_FOUND. Writes of one user run one at a time here.
/// </summary>
[Alias("key-backup")]
public interface IKeyBackupGrain : IGrainWithStringKey
{
    /// <summary>POST /room_keys/version: a new version, which becomes the current one. M_INVALID_PARAM for an unknown algorithm.</summary>
    Task<string> CreateVersionAsync(string algorithm, byte[] authData);

    /// <summary>The version, or the current one when <paramref name="version"/> is null; null when there is none.</summary>
    [Idempotent]
    Task<KeyBackupVersion?> GetVersionAsync(string? version);

    /// <summary>PUT /room_keys/version/{version}: replaces auth_data only; the algorithm must be the version's (M_INVALID_PARAM).</summary>
    [Idempotent]
    Task UpdateVersionAsync(string version, string algorithm, byte[] authData);

    /// <summary>DELETE /room_keys/version/{version}: the version and its keys; deleting it again succeeds.</summary>
    [Idempotent]
    Task DeleteVersionAsync(string version);

    /// <summary>
    /// Stores the keys in the version, which must be the current one, keeping for each session the better of the
    /// stored and the offered key.
    /// </summary>
    [Idempotent]
    Task<KeyBackupUpload> PutKeysAsync(string version, IReadOnlyList<BackedUpKey> keys);

    /// <summary>The version's keys: all, one room's, or one session's (<paramref name="sessionId"/> needs <paramref name="roomId"/>).</summary>
    [Idempotent]
    Task<IReadOnlyList<BackedUpKey>> GetKeysAsync(string version, string? roomId, string? sessionId);

    /// <summary>Deletes the version's keys as <see cref="GetKeysAsync"/> selects them.</summary>
    [Idempotent]
    Task<KeyBackupState> DeleteKeysAsync(string version, string? roomId, string? sessionId);
}
