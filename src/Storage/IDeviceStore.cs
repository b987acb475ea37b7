namespace HomeServer.Storage;

/// <summary>
/// Devices and access tokens. Tokens are passed in clear and only their SHA-256 hash is ever stored,
/// so a leaked database does not leak sessions.
/// </summary>
public interface IDeviceStore
{
    /// <summary>
    /// Creates the device if it is new (an existing device keeps its display name), revokes the device's
    /// previous access tokens and stores the new one, in one transaction. False when the account does not
    /// exist or is deactivated.
    /// </summary>
    Task<bool> IssueAccessTokenAsync(NewAccessToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a refresh token's access token: stores <paramref name="replacement"/> (an access token and the new
    /// refresh token) for the refresh token's device, revokes the access token issued with the used refresh token and
    /// whatever an earlier use of that same refresh token issued, and revokes the refresh token that the used one
    /// replaced. The used refresh token itself stays valid until the new tokens are first used (see
    /// <see cref="RevokeReplacedRefreshTokenAsync"/>). Null, storing nothing, when the refresh token is unknown or revoked
    /// or belongs to another user than the replacement.
    /// </summary>
    Task<AccessTokenOwner?> RefreshAsync(string refreshToken, NewAccessToken replacement, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the refresh token that the refresh token issued with this access token replaced, now that the new access
    /// token is in use; false when there was none.
    /// </summary>
    Task<bool> RevokeReplacedRefreshTokenAsync(string accessToken, CancellationToken cancellationToken);

    /// <summary>The user and device an access token belongs to, or null for an unknown or revoked token.</summary>
    Task<AccessTokenOwner?> FindAccessTokenOwnerAsync(string accessToken, CancellationToken cancellationToken);

    Task<Device?> GetDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>The user's devices, ordered by device id.</summary>
    Task<IReadOnlyList<Device>> GetDevicesAsync(string userId, CancellationToken cancellationToken);

    Task<bool> SetDeviceDisplayNameAsync(string userId, string deviceId, string? displayName, CancellationToken cancellationToken);

    Task<bool> RecordLastSeenAsync(string userId, string deviceId, long lastSeenTs, string? lastSeenIp, CancellationToken cancellationToken);

    /// <summary>Revokes the access (and refresh) tokens of one device, or of all the user's devices when deviceId is null; returns how many.</summary>
    Task<int> RevokeAccessTokensAsync(string userId, string? deviceId, CancellationToken cancellationToken);

    /// <summary>Deletes the device and its access tokens; false when there was no such device.</summary>
    Task<bool> DeleteDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>Deletes all the user's devices and their tokens, except one when given; returns how many devices.</summary>
    Task<int> DeleteAllDevicesAsync(string userId, string? exceptDeviceId, CancellationToken cancellationToken);
}
