using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Accounts;

internal sealed record CapabilitiesResponse([property: JsonPropertyName("capabilities")] Capabilities Capabilities);

internal sealed record Capabilities(
    [property: JsonPropertyName("m.change_password")] BooleanCapability ChangePassword,
    [property: JsonPropertyName("m.room_versions")] RoomVersionsCapability RoomVersions,
    [property: JsonPropertyName("m.set_displayname")] BooleanCapability SetDisplayName,
    [property: JsonPropertyName("m.set_avatar_url")] BooleanCapability SetAvatarUrl,
    [property: JsonPropertyName("m.3pid_changes")] BooleanCapability ThirdPartyIdChanges,
    [property: JsonPropertyName("m.get_login_token")] BooleanCapability GetLoginToken,
    [property: JsonPropertyName("m.profile_fields")] ProfileFieldsCapability ProfileFields)
{
    /// <summary>Only for server admins, who may lock and suspend accounts; left out for everyone else, as the spec asks.</summary>
    [JsonPropertyName("m.account_moderation")] public AccountModerationCapability? AccountModeration { get; init; }
}

internal sealed record AccountModerationCapability(
    [property: JsonPropertyName("lock")] bool Lock,
    [property: JsonPropertyName("suspend")] bool Suspend);

internal sealed record BooleanCapability([property: JsonPropertyName("enabled")] bool Enabled);

internal sealed record RoomVersionsCapability(
    [property: JsonPropertyName("default")] string Default,
    [property: JsonPropertyName("available")] IReadOnlyDictionary<string, string> Available);

internal sealed record ProfileFieldsCapability(
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("allowed")] IReadOnlyList<string> Allowed);
