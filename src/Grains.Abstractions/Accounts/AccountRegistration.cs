using Orleans;

namespace HomeServer.Grains.Accounts;

/// <param name="PasswordHash">Encoded by the gateway's password hasher.</param>
/// <param name="DisplayName">Null: the localpart, as most servers do.</param>
/// <param name="Login">The first device to log in, or null to create the account without logging in.</param>
[GenerateSerializer, Alias("hs.AccountRegistration")]
public sealed record AccountRegistration(string PasswordHash, bool IsAdmin, string? DisplayName, DeviceLogin? Login);

/// <param name="DeviceId">Null: the server picks one.</param>
/// <param name="InitialDisplayName">Used only when the device is new.</param>
/// <param name="ClientIp">Recorded as where the device was last seen.</param>
/// <param name="AccessTokenLifetimeMs">
/// Set when the client asked for a refresh token: the access token then expires after this many milliseconds and a
/// refresh token comes with it. Null: an access token that never expires, and no refresh token.
/// </param>
[GenerateSerializer, Alias("hs.DeviceLogin")]
public sealed record DeviceLogin(string? DeviceId, string? InitialDisplayName, string? ClientIp, long? AccessTokenLifetimeMs = null);

/// <param name="RefreshToken">Issued only when the login asked for one.</param>
/// <param name="ExpiresInMs">The access token's lifetime; null when it does not expire.</param>
[GenerateSerializer, Alias("hs.LoginResult")]
public sealed record LoginResult(string UserId, string AccessToken, string DeviceId, string? RefreshToken = null, long? ExpiresInMs = null);

[GenerateSerializer, Alias("hs.DeviceInfo")]
public sealed record DeviceInfo(string DeviceId, string? DisplayName, long? LastSeenTs, string? LastSeenIp);

[GenerateSerializer, Alias("hs.UserProfile")]
public sealed record UserProfile(string? DisplayName, string? AvatarUrl);
