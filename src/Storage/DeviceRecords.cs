namespace HomeServer.Storage;

/// <param name="AccessToken">The token in clear; the store keeps only its SHA-256 hash.</param>
/// <param name="InitialDeviceDisplayName">Used only when the device is created by this call.</param>
/// <param name="ExpiresTs">When the access token expires (ms since the epoch); null: never.</param>
/// <param name="RefreshToken">A refresh token (in clear) issued with the access token, or null.</param>
public sealed record NewAccessToken(
    string UserId,
    string DeviceId,
    string AccessToken,
    long CreatedTs,
    string? InitialDeviceDisplayName = null,
    long? ExpiresTs = null,
    string? RefreshToken = null);

/// <param name="ExpiresTs">When the access token expires (ms since the epoch); null: never.</param>
public sealed record AccessTokenOwner(string UserId, string DeviceId, long? ExpiresTs = null);

public sealed record Device(string UserId, string DeviceId, string? DisplayName, long? LastSeenTs, string? LastSeenIp);
