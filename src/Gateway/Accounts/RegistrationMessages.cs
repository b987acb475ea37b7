using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Accounts;

internal sealed class RegisterRequest
{
    [JsonPropertyName("auth")] public AuthenticationData? Auth { get; init; }
    [JsonPropertyName("username")] public string? Username { get; init; }
    [JsonPropertyName("password")] public string? Password { get; init; }
    [JsonPropertyName("device_id")] public string? DeviceId { get; init; }
    [JsonPropertyName("initial_device_display_name")] public string? InitialDeviceDisplayName { get; init; }
    [JsonPropertyName("inhibit_login")] public bool? InhibitLogin { get; init; }
    [JsonPropertyName("refresh_token")] public bool? RefreshToken { get; init; }
    /// <summary>Upgrades the guest account of this access token (the Guest Access module).</summary>
    [JsonPropertyName("guest_access_token")] public string? GuestAccessToken { get; init; }
}

internal sealed record RegisterResponse([property: JsonPropertyName("user_id")] string UserId)
{
    [JsonPropertyName("access_token")] public string? AccessToken { get; init; }
    [JsonPropertyName("device_id")] public string? DeviceId { get; init; }
    [JsonPropertyName("home_server")] public string? HomeServer { get; init; }
    [JsonPropertyName("refresh_token")] public string? RefreshToken { get; init; }
    [JsonPropertyName("expires_in_ms")] public long? ExpiresInMs { get; init; }
}

internal sealed record AvailabilityResponse([property: JsonPropertyName("available")] bool Available);

internal sealed record TokenValidityResponse([property: JsonPropertyName("valid")] bool Valid);

internal sealed record NonceResponse([property: JsonPropertyName("nonce")] string Nonce);

/// <summary>The body of Synapse's shared-secret registration.</summary>
internal sealed class SharedSecretRegisterRequest
{
    [JsonPropertyName("nonce")] public string? Nonce { get; init; }
    [JsonPropertyName("username")] public string? Username { get; init; }
    [JsonPropertyName("password")] public string? Password { get; init; }
    [JsonPropertyName("admin")] public bool? Admin { get; init; }
    [JsonPropertyName("displayname")] public string? DisplayName { get; init; }
    [JsonPropertyName("user_type")] public string? UserType { get; init; }
    [JsonPropertyName("mac")] public string? Mac { get; init; }
    [JsonPropertyName("device_id")] public string? DeviceId { get; init; }
    [JsonPropertyName("initial_device_display_name")] public string? InitialDeviceDisplayName { get; init; }
    [JsonPropertyName("inhibit_login")] public bool? InhibitLogin { get; init; }
}
