using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// Access tokens are <c>mat_</c> + base64url(user id) + <c>_</c> + 256 random bits in base64url. The user id in
/// clear lets any gateway send the token straight to that user's grain, which alone can say whether it is valid;
/// the random part is the secret. Only the SHA-256 of the whole token is ever stored.
/// </summary>
public static class AccessTokens
{
    private const string Prefix = "mat_";
    private const string RefreshPrefix = "mrt_";
    private const string OpenIdPrefix = "moi_";

    public static string Create(string userId) => Create(Prefix, userId);

    /// <summary>A refresh token: the same shape with another prefix, so it can never pass for an access token.</summary>
    public static string CreateRefresh(string userId) => Create(RefreshPrefix, userId);

    /// <summary>The user id a well-formed refresh token names, or null.</summary>
    public static string? TryGetUserIdOfRefresh(string? token) => TryGetUserId(RefreshPrefix, token);

    /// <summary>An OpenID token: the same shape again, so that any gateway can take it to the grain of the user it names.</summary>
    public static string CreateOpenId(string userId) => Create(OpenIdPrefix, userId);

    /// <summary>The user id a well-formed OpenID token names, or null.</summary>
    public static string? TryGetUserIdOfOpenId(string? token) => TryGetUserId(OpenIdPrefix, token);

    private static string Create(string prefix, string userId)
    {
        Span<byte> secret = stackalloc byte[32];
        RandomNumberGenerator.Fill(secret);
        return prefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(userId)) + "_" + Base64Url.EncodeToString(secret);
    }

    /// <summary>The user id a well-formed token names, or null for anything that cannot be one of our tokens.</summary>
    public static string? TryGetUserId(string? token) => TryGetUserId(Prefix, token);

    private static string? TryGetUserId(string prefix, string? token)
    {
        if (token is null || token.Length > 1024 || !token.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var separator = token.IndexOf('_', prefix.Length);
        if (separator < 0 || token.Length - separator - 1 != 43) return null;
        try
        {
            var userId = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.AsSpan(prefix.Length, separator - prefix.Length)));
            return userId.StartsWith('@') ? userId : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
