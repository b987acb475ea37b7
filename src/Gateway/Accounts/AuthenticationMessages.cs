using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Accounts;

/// <summary>The <c>auth</c> object of a request that uses user-interactive authentication; fields depend on the stage type.</summary>
internal sealed class AuthenticationData
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("session")] public string? Session { get; init; }

    /// <summary><c>m.login.registration_token</c>.</summary>
    [JsonPropertyName("token")] public string? Token { get; init; }

    /// <summary><c>m.login.password</c>, with <see cref="Identifier"/> or the deprecated <see cref="User"/>.</summary>
    [JsonPropertyName("password")] public string? Password { get; init; }
    [JsonPropertyName("identifier")] public UserIdentifier? Identifier { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
}

internal sealed class UserIdentifier
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
}

/// <summary>The 401 body that asks for (more) authentication.</summary>
internal sealed record AuthenticationChallenge(
    [property: JsonPropertyName("flows")] IReadOnlyList<AuthenticationFlow> Flows,
    [property: JsonPropertyName("params")] EmptyObject Params,
    [property: JsonPropertyName("session")] string Session)
{
    [JsonPropertyName("completed")] public IReadOnlyList<string>? Completed { get; init; }
    [JsonPropertyName("errcode")] public string? ErrCode { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

internal sealed record AuthenticationFlow([property: JsonPropertyName("stages")] IReadOnlyList<string> Stages);

/// <summary><c>{}</c>.</summary>
internal sealed record EmptyObject
{
    public static readonly EmptyObject Instance = new();
}
