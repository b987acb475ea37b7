namespace HomeServer.Storage;

/// <param name="AccessToken">The token in clear; the store keeps only its SHA-256 hash.</param>
/// <param name="InitialDeviceDisplayName">Used only when the device is created by this call.</param>
public sealed record NewAccessToken(
    string UserId,
    string DeviceId,
    string AccessToken,
    long CreatedTs,
    string? InitialDeviceDisplayName = null);

public sealed record AccessTokenOwner(string UserId, string DeviceId);

public sealed record Device(string UserId, string DeviceId, string? DisplayName, long? LastSeenTs, string? LastSeenIp);
