using System.Text.Json.Serialization;
using HomeServer.Gateway.Discovery;

namespace HomeServer.Gateway.Accounts;

internal sealed record LoginFlowsResponse([property: JsonPropertyName("flows")] IReadOnlyList<LoginFlow> Flows);

internal sealed record LoginFlow([property: JsonPropertyName("type")] string Type);

internal sealed class LoginRequest
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("identifier")] public UserIdentifier? Identifier { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
    [JsonPropertyName("password")] public string? Password { get; init; }
    [JsonPropertyName("device_id")] public string? DeviceId { get; init; }
    [JsonPropertyName("initial_device_display_name")] public string? InitialDeviceDisplayName { get; init; }
    [JsonPropertyName("refresh_token")] public bool? RefreshToken { get; init; }
}

internal sealed record LoginResponse(
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("home_server")] string HomeServer,
    [property: JsonPropertyName("well_known")] WellKnownClientResponse WellKnown)
{
    [JsonPropertyName("refresh_token")] public string? RefreshToken { get; init; }
    [JsonPropertyName("expires_in_ms")] public long? ExpiresInMs { get; init; }
}

internal sealed record WhoAmIResponse(
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("is_guest")] bool IsGuest);

internal sealed class ChangePasswordRequest
{
    [JsonPropertyName("new_password")] public required string NewPassword { get; init; }
    [JsonPropertyName("logout_devices")] public bool? LogoutDevices { get; init; }
    [JsonPropertyName("auth")] public AuthenticationData? Auth { get; init; }
}

internal sealed class DeactivateRequest
{
    [JsonPropertyName("auth")] public AuthenticationData? Auth { get; init; }
    [JsonPropertyName("id_server")] public string? IdServer { get; init; }
    [JsonPropertyName("erase")] public bool? Erase { get; init; }
}

internal sealed record DeactivateResponse([property: JsonPropertyName("id_server_unbind_result")] string IdServerUnbindResult);
