using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Errors;

/// <summary>
/// The body of every error response of the Client-Server API. Fields that only some error codes
/// carry are optional properties, left out of the JSON when null.
/// </summary>
public sealed record MatrixError(
    [property: JsonPropertyName("errcode")] string ErrCode,
    [property: JsonPropertyName("error")] string Error)
{
    [JsonPropertyName("retry_after_ms")]
    public long? RetryAfterMs { get; init; }

    /// <summary>With M_UNKNOWN_TOKEN: whether the client may keep its data and log in again.</summary>
    [JsonPropertyName("soft_logout")]
    public bool? SoftLogout { get; init; }

    /// <summary>With M_WRONG_ROOM_KEYS_VERSION: the user's current key backup version.</summary>
    [JsonPropertyName("current_version")]
    public string? CurrentVersion { get; init; }

    /// <summary>With M_INCOMPATIBLE_ROOM_VERSION (federation <c>make_join</c>): the room's version.</summary>
    [JsonPropertyName("room_version")]
    public string? RoomVersion { get; init; }
}
