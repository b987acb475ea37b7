using System.Text.Json;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Keys;

/// <summary>
/// The end-to-end keys one local user writes (key: the full user id): its devices' keys, its cross-signing keys and the
/// signatures it makes. One activation per user serialises the user's key writes, so the checks against what is stored
/// (identity keys never replaced, one-time key ids never reused with other content) cannot race. Every change of device
/// keys or cross-signing keys is appended to the device-list stream and wakes the /sync of the user and of everyone
/// sharing a room with it. Bodies arrive as the client sent them; malformed ones are refused with a
/// <see cref="MatrixRequestException"/> before anything is stored.
/// </summary>
[Alias("device-keys")]
public interface IDeviceKeysGrain : IGrainWithStringKey
{
    /// <summary>POST /keys/upload by one of the user's devices; answers the response body (<c>one_time_key_counts</c>).</summary>
    [Idempotent]
    [return: Immutable]
    Task<byte[]> UploadAsync(string deviceId, JsonElement body);

    /// <summary>Whether the user has uploaded a master key (the first upload needs no user-interactive auth).</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<bool> HasCrossSigningKeysAsync();

    /// <summary>POST /keys/device_signing/upload, after any user-interactive auth the gateway required.</summary>
    [Idempotent]
    Task UploadCrossSigningKeysAsync(JsonElement body);

    /// <summary>POST /keys/signatures/upload; answers the response body (<c>failures</c>).</summary>
    [Idempotent]
    [return: Immutable]
    Task<byte[]> UploadSignaturesAsync(JsonElement body);

    /// <summary>
    /// Devices of the user were deleted (one by one, all at once, or with the account): the keys of every device that no
    /// longer exists go, and each such removal is a change of the user's device list.
    /// </summary>
    [Idempotent]
    Task DeleteKeysOfRemovedDevicesAsync();
}

/// <summary>
/// Reads and claims of end-to-end keys for any requester (key: any string, e.g. "local"; a stateless worker, so every
/// silo answers locally). Claims stay exactly-once because the store takes each key in one statement.
/// </summary>
[Alias("key-query")]
public interface IKeyQueryGrain : IGrainWithStringKey
{
    /// <summary>POST /keys/query; answers the response body.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> QueryAsync(string requesterUserId, JsonElement body);

    /// <summary>POST /keys/claim; answers the response body. Not idempotent: each call consumes keys.</summary>
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> ClaimAsync(JsonElement body);

    /// <summary>
    /// POST /_matrix/federation/v1/user/keys/query from another server: the keys of this server's users only (another
    /// server's user is <c>M_INVALID_PARAM</c>), without user-signing keys and without signatures of other users on master keys.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> QueryForServerAsync(JsonElement body);

    /// <summary>POST /_matrix/federation/v1/user/keys/claim from another server, for this server's users only.</summary>
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> ClaimForServerAsync(JsonElement body);

    /// <summary>GET /_matrix/federation/v1/user/devices/{userId}: a local user's devices with their keys and cross-signing keys.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetDevicesForServerAsync(string userId);

    /// <summary>
    /// The server of <paramref name="userId"/>, a user of another server, announced a change of its devices
    /// (<c>m.device_list_update</c>): local users sharing a room with it see it in <c>device_lists.changed</c> and query
    /// its keys again (this server keeps no copy of other servers' device lists, so there is nothing else to mark stale).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    Task RemoteDeviceListChangedAsync(string userId);

    /// <summary>GET /keys/changes between two /sync tokens; answers the response body.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetChangesAsync(string requesterUserId, string from, string to);
}
