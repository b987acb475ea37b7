using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Accounts;

internal sealed record ProfileResponse
{
    [JsonPropertyName("displayname")] public string? DisplayName { get; init; }
    [JsonPropertyName("avatar_url")] public string? AvatarUrl { get; init; }
}
