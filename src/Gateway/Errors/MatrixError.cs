using System.Text.Json;
using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Errors;

/// <summary>The body of every error response of the Client-Server API.</summary>
public sealed record MatrixError(
    [property: JsonPropertyName("errcode")] string ErrCode,
    [property: JsonPropertyName("error")] string Error)
{
    [JsonPropertyName("retry_after_ms")]
    public long? RetryAfterMs { get; init; }

    /// <summary>Further fields some error codes carry (for example <c>soft_logout</c>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}
