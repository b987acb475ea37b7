using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Accounts;

/// <summary>Who made a request: the user and device an access token belongs to.</summary>
/// <param name="IsGuest">A guest account (the Guest Access module), which may use only part of the API.</param>
/// <param name="ExpiresTs">When the access token expires (ms since the epoch; tokens issued with a refresh token); null: never.</param>
/// <param name="IsLocked">Locked by a server admin: every request but logging out is refused.</param>
/// <param name="IsSuspended">Suspended by a server admin: reading is allowed, acting in rooms and changing the profile is not.</param>
[GenerateSerializer, Alias("hs.Session")]
public sealed record Session(
    string UserId, string DeviceId, bool IsAdmin, bool IsGuest = false, long? ExpiresTs = null, bool IsLocked = false, bool IsSuspended = false)
{
    public bool IsExpired(long now) => ExpiresTs <= now;
}

[GenerateSerializer, Alias("hs.AccountModeration")]
public sealed record AccountModeration(bool Locked, bool Suspended, bool IsAdmin);

/// <summary>
/// One local user (key: the full user id): account, devices and access tokens, profile, account data, filters.
/// Passwords never reach this grain: the gateway hashes new passwords and verifies given ones against
/// <see cref="GetPasswordHashAsync"/>, so the deliberately slow hashing never occupies the grain's turn.
/// </summary>
[Alias("user")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>The session of a valid access token of this user, or null (unknown, revoked or deactivated).</summary>
    [Idempotent]
    Task<Session?> AuthenticateAsync(string accessToken);

    /// <summary>
    /// Exchanges a refresh token of this user for a new access token (expiring after <paramref name="accessTokenLifetimeMs"/>)
    /// and a new refresh token, as the spec's <c>/refresh</c>; null when the refresh token is unknown or revoked.
    /// </summary>
    Task<LoginResult?> RefreshAsync(string refreshToken, long accessTokenLifetimeMs);

    /// <summary>
    /// Issues an OpenID token for this active user, valid for <paramref name="lifetimeMs"/>; M_FORBIDDEN when the account
    /// is not active.
    /// </summary>
    Task<string> RequestOpenIdTokenAsync(long lifetimeMs);

    /// <summary>True when the OpenID token is this user's and has not expired (and the account is active).</summary>
    [Idempotent]
    Task<bool> IsOpenIdTokenValidAsync(string token);

    /// <summary>The account's moderation state, or null when there is no such active (not deactivated) account.</summary>
    [Idempotent]
    Task<AccountModeration?> GetModerationAsync();

    /// <summary>
    /// Locks or unlocks, suspends or reinstates the account (null leaves that part as it is); returns the new state,
    /// or null when there is no such active account. Cached sessions are forgotten so that the change applies at once.
    /// </summary>
    [Idempotent]
    Task<AccountModeration?> SetModerationAsync(bool? locked, bool? suspended);

    /// <summary>True when the user id is taken, also by a deactivated account.</summary>
    [Idempotent]
    Task<bool> ExistsAsync();

    /// <summary>
    /// Creates the account and, when <see cref="AccountRegistration.Login"/> is set, its first device and access token.
    /// Refuses with M_USER_IN_USE when the id is taken; checks every input before writing anything.
    /// </summary>
    Task<LoginResult?> RegisterAsync(AccountRegistration registration);

    /// <summary>
    /// Creates this account as a guest (no password) with its first device and access token. The key must be a
    /// guest user id (a numeric localpart); M_USER_IN_USE when taken.
    /// </summary>
    Task<LoginResult> RegisterGuestAsync(DeviceLogin login);

    /// <summary>
    /// Turns this guest account into a full account with the password hash, keeping its user id, rooms and
    /// devices, and, when <paramref name="login"/> is set, logs in a device. M_FORBIDDEN when it is not an active guest.
    /// </summary>
    Task<LoginResult?> UpgradeGuestAsync(string passwordHash, DeviceLogin? login);

    /// <summary>The encoded password hash of an active account, or null (no such account, deactivated, no password).</summary>
    [Idempotent]
    Task<string?> GetPasswordHashAsync();

    /// <summary>
    /// Issues an access token for a (new or existing) device after the caller verified the password against
    /// <paramref name="verifiedPasswordHash"/>; refuses with M_FORBIDDEN when the password changed since.
    /// </summary>
    Task<LoginResult> LogInAsync(DeviceLogin login, string verifiedPasswordHash);

    /// <summary>Replaces the password hash; with <paramref name="logOutOtherDevices"/>, deletes every device but <paramref name="currentDeviceId"/>.</summary>
    Task ChangePasswordAsync(string passwordHash, bool logOutOtherDevices, string currentDeviceId);

    /// <summary>
    /// Deactivates the account for good (erased too when <paramref name="erase"/> is set): no password, profile, devices
    /// or access tokens are left, and the user leaves every room they are joined to, invited to or knocking on. Safe to
    /// repeat; a repeat finishes the leaves of an interrupted call. M_FORBIDDEN when there is no such account.
    /// </summary>
    [Idempotent]
    Task DeactivateAsync(bool erase);

    /// <summary>True when the account exists and is deactivated.</summary>
    [Idempotent]
    Task<bool> IsDeactivatedAsync();

    [Idempotent]
    Task<IReadOnlyList<DeviceInfo>> GetDevicesAsync();

    [Idempotent]
    Task<DeviceInfo?> GetDeviceAsync(string deviceId);

    /// <summary>False when the user has no such device.</summary>
    Task<bool> RenameDeviceAsync(string deviceId, string? displayName);

    /// <summary>Deletes the devices and revokes their access tokens; ids of devices that do not exist are ignored.</summary>
    Task DeleteDevicesAsync(IReadOnlyList<string> deviceIds);

    /// <summary>Deletes every device and revokes every access token of the user.</summary>
    Task DeleteAllDevicesAsync();

    /// <summary>The profile of an existing account, or null.</summary>
    [Idempotent]
    Task<UserProfile?> GetProfileAsync();

    /// <summary>
    /// Sets the display name (null clears it), then, without the caller waiting, has every room the user is joined to
    /// update the user's member event.
    /// </summary>
    Task SetDisplayNameAsync(string? displayName);

    /// <summary>Sets the avatar URL (null clears it); rooms are updated as for <see cref="SetDisplayNameAsync"/>.</summary>
    Task SetAvatarUrlAsync(string? avatarUrl);

    /// <summary>The content (a JSON object) of global (room id null) or room account data, or null.</summary>
    [Idempotent]
    [return: Immutable]
    Task<byte[]?> GetAccountDataAsync(string? roomId, string dataType);

    /// <summary>Stores account data (a compact JSON object) and tells the user's sync grain.</summary>
    Task SetAccountDataAsync(string? roomId, string dataType, byte[] content);

    /// <summary>Stores a sync filter (a compact JSON object) and returns its id.</summary>
    Task<string> CreateFilterAsync(byte[] filter);

    [Idempotent]
    [return: Immutable]
    Task<byte[]?> GetFilterAsync(string filterId);

    /// <summary>The JSON of GET /user/{userId}/rooms/{roomId}/tags (<c>{"tags":{…}}</c>, empty when none).</summary>
    [Idempotent]
    [return: Immutable]
    Task<byte[]> GetRoomTagsAsync(string roomId);

    /// <summary>Adds or replaces one tag (content: a JSON object whose <c>order</c>, when present, is in [0,1]) in m.tag.</summary>
    Task SetRoomTagAsync(string roomId, string tag, byte[] content);

    /// <summary>Removes one tag from m.tag; removing a tag the room does not have succeeds.</summary>
    Task DeleteRoomTagAsync(string roomId, string tag);
}
