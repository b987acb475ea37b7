namespace HomeServer.Storage;

/// <summary>
/// End-to-end encryption keys: each device's signed device keys, its one-time and fallback keys, each user's
/// cross-signing keys, signatures added to them later, and the device-list change stream (one position per change of
/// a user's device keys or cross-signing keys), which /sync and /keys/changes read through the users' shared rooms.
/// Key JSON is stored as given; the caller validates it.
/// </summary>
public interface IKeyStore
{
    /// <summary>
    /// Writes one upload in one transaction: the device keys when given and different from the stored ones (then a
    /// device-list change is appended), the one-time keys whose ids are not stored yet (existing ones are kept as they
    /// are), and the fallback keys (replacing the algorithm's previous one; the same key again keeps its used flag).
    /// </summary>
    Task<KeyUploadResult> UploadKeysAsync(KeyUpload upload, CancellationToken cancellationToken);

    /// <summary>The device keys of the device as uploaded, or null.</summary>
    Task<string?> GetDeviceKeysAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>The device keys of every device of the users, in no particular order.</summary>
    Task<IReadOnlyList<StoredDeviceKeys>> GetDeviceKeysAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>The stored JSON of those of the device's one-time keys that exist, by key id (<c>algorithm:id</c>).</summary>
    Task<IReadOnlyDictionary<string, string>> GetOneTimeKeysAsync(
        string userId, string deviceId, IReadOnlyCollection<string> keyIds, CancellationToken cancellationToken);

    /// <summary>The number of unclaimed one-time keys of the device per algorithm (algorithms with none left out).</summary>
    Task<IReadOnlyDictionary<string, int>> CountOneTimeKeysAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>The algorithms of the device's fallback keys that no claim has used yet, ordered.</summary>
    Task<IReadOnlyList<string>> GetUnusedFallbackKeyAlgorithmsAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Claims one key per request in one transaction: the device's one-time key of the algorithm with the lowest key id,
    /// deleted so that no other claim (on any silo) gets it, or when none is left its fallback key, marked used. Requests
    /// for which neither exists are left out of the answer.
    /// </summary>
    Task<IReadOnlyList<ClaimedKey>> ClaimKeysAsync(IReadOnlyList<KeyClaim> claims, CancellationToken cancellationToken);

    /// <summary>Stores (replacing) cross-signing keys of one user and appends a device-list change; returns its position.</summary>
    Task<long> SetCrossSigningKeysAsync(string userId, IReadOnlyList<NewCrossSigningKey> keys, CancellationToken cancellationToken);

    /// <summary>The cross-signing keys of the users, in no particular order.</summary>
    Task<IReadOnlyList<StoredCrossSigningKey>> GetCrossSigningKeysAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>
    /// Stores signatures (replacing one of the same signer key on the same target) and appends one device-list change
    /// per target user, which a signer of another user's key also sees whether or not they share a room; returns the
    /// last position (0 when <paramref name="signatures"/> is empty).
    /// </summary>
    Task<long> AddSignaturesAsync(IReadOnlyList<KeySignature> signatures, CancellationToken cancellationToken);

    /// <summary>The signatures stored on keys of the users, in no particular order.</summary>
    Task<IReadOnlyList<KeySignature>> GetSignaturesAsync(IReadOnlyCollection<string> targetUserIds, CancellationToken cancellationToken);

    /// <summary>The user's device ids that hold device keys, one-time keys or fallback keys, in no particular order.</summary>
    Task<IReadOnlyList<string>> GetDevicesWithKeysAsync(string userId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the device's device keys, one-time and fallback keys and the signatures on them, and appends a
    /// device-list change of the user; returns its position.
    /// </summary>
    Task<long> DeleteDeviceKeysAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// The users whose devices or cross-signing keys changed after <paramref name="sincePosition"/> and at most at
    /// <paramref name="upToPosition"/>: the user itself, users joined to a room the user is joined to, and users whose
    /// keys the user signed; each user once, at its latest position, ascending.
    /// </summary>
    Task<IReadOnlyList<DeviceListChange>> GetDeviceListChangesAsync(
        string userId, long sincePosition, long upToPosition, CancellationToken cancellationToken);

    /// <summary>Those of the users that share a joined room with the user (the user itself when joined anywhere).</summary>
    Task<IReadOnlyList<string>> GetUsersSharingARoomAsync(
        string userId, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>
    /// The membership events with a global position after <paramref name="sinceEvents"/> and at most at
    /// <paramref name="upToEvents"/> in the rooms the user has any membership in, ascending.
    /// </summary>
    Task<IReadOnlyList<MembershipChange>> GetMembershipChangesAsync(
        string userId, long sinceEvents, long upToEvents, CancellationToken cancellationToken);

    /// <summary>The users joined to the rooms now.</summary>
    Task<IReadOnlyList<string>> GetJoinedMembersAsync(IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken);

    /// <summary>The position of the user's last device-list change; null when it never changed.</summary>
    Task<long?> GetDeviceListPositionAsync(string userId, CancellationToken cancellationToken);

    /// <summary>
    /// Appends a device-list change of a user of another server, whose server announced it (<c>m.device_list_update</c>):
    /// the local users sharing a room with it then see it in <c>device_lists.changed</c>. Returns its position.
    /// </summary>
    Task<long> AppendRemoteDeviceListChangeAsync(string userId, CancellationToken cancellationToken);

    /// <summary>The highest device-list stream position written so far (0 when none).</summary>
    Task<long> GetMaxDeviceListPositionAsync(CancellationToken cancellationToken);
}

/// <param name="DeviceKeysJson">The device_keys object, or null when the upload has none.</param>
public sealed record KeyUpload(
    string UserId, string DeviceId, string? DeviceKeysJson, IReadOnlyList<UploadedKey> OneTimeKeys, IReadOnlyList<UploadedKey> FallbackKeys);

/// <param name="Algorithm">The part of the key name before the colon.</param>
/// <param name="KeyId">The whole key name, <c>algorithm:id</c>.</param>
/// <param name="Json">The key: a JSON string or object.</param>
public sealed record UploadedKey(string Algorithm, string KeyId, string Json);

/// <param name="DeviceListPosition">The device-list change appended because the device keys changed, or null.</param>
public sealed record KeyUploadResult(long? DeviceListPosition, IReadOnlyDictionary<string, int> OneTimeKeyCounts);

public sealed record StoredDeviceKeys(string UserId, string DeviceId, string Json);

public sealed record KeyClaim(string UserId, string DeviceId, string Algorithm);

public sealed record ClaimedKey(string UserId, string DeviceId, string KeyId, string Json, bool IsFallback);

/// <param name="Type">master, self_signing or user_signing.</param>
/// <param name="PublicKey">The key's unpadded base64 Ed25519 public key (the part after <c>ed25519:</c>).</param>
public sealed record NewCrossSigningKey(string Type, string PublicKey, string Json);

public sealed record StoredCrossSigningKey(string UserId, string Type, string PublicKey, string Json);

/// <param name="TargetKeyId">A device id or a cross-signing public key of <paramref name="TargetUserId"/>.</param>
/// <param name="SignerKeyId">The signing key's name, <c>ed25519:…</c>.</param>
public sealed record KeySignature(string TargetUserId, string TargetKeyId, string SignerUserId, string SignerKeyId, string Signature);

public sealed record DeviceListChange(string UserId, long StreamPosition);

/// <param name="Membership">The membership the event set.</param>
public sealed record MembershipChange(string RoomId, string UserId, string Membership, long GlobalPosition);
