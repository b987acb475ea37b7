using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Accounts;

internal sealed record DevicesResponse([property: JsonPropertyName("devices")] IReadOnlyList<DeviceResponse> Devices);

internal sealed record DeviceResponse(
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("display_name")] string? DisplayName,
    [property: JsonPropertyName("last_seen_ip")] string? LastSeenIp,
    [property: JsonPropertyName("last_seen_ts")] long? LastSeenTs);

internal sealed class UpdateDeviceRequest
{
    [JsonPropertyName("display_name")] public string? DisplayName { get; init; }
}

internal sealed class DeleteDeviceRequest
{
    [JsonPropertyName("auth")] public AuthenticationData? Auth { get; init; }
}

internal sealed class DeleteDevicesRequest
{
    [JsonPropertyName("devices")] public required IReadOnlyList<string> Devices { get; init; }
    [JsonPropertyName("auth")] public AuthenticationData? Auth { get; init; }
}
