using HomeServer.Gateway.Errors;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Orleans;

namespace HomeServer.Gateway.Auth;

/// <summary>
/// Resolves the access token of a request (the Authorization bearer header, or the deprecated access_token query
/// parameter) to a <see cref="Session"/> by asking the grain of the user the token names.
/// </summary>
public static class SessionAuthentication
{
    private const string SessionKey = "HomeServer.Session";

    /// <summary>The session of a server admin, or 403 <c>M_FORBIDDEN</c> for anyone else (401 without a valid token).</summary>
    public static ValueTask<Session> RequireAdminSessionAsync(this HttpContext context) =>
        context.RequireAdminSessionAsync(ReadAccessToken(context.Request));

    /// <summary>As <see cref="RequireAdminSessionAsync(HttpContext)"/>, with the token found elsewhere (a cookie).</summary>
    public static async ValueTask<Session> RequireAdminSessionAsync(this HttpContext context, string? token)
    {
        var session = await SessionOfAsync(context, token);
        return session.IsAdmin
            ? session
            : throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN", "Only server admins may do this.");
    }

    /// <summary>The request's session; 401 M_MISSING_TOKEN without a token, 401 M_UNKNOWN_TOKEN for an invalid one.</summary>
    public static ValueTask<Session> RequireSessionAsync(this HttpContext context) =>
        SessionOfAsync(context, ReadAccessToken(context.Request));

    private static async ValueTask<Session> SessionOfAsync(HttpContext context, string? token)
    {
        if (context.Items.TryGetValue(SessionKey, out var cached) && cached is Session known) return RequireGuestAllowed(context, known);
        token = token
            ?? throw new MatrixException(StatusCodes.Status401Unauthorized, "M_MISSING_TOKEN", "Missing access token.");
        var userId = AccessTokens.TryGetUserId(token) ?? throw UnknownToken();
        var grains = context.RequestServices.GetRequiredService<IGrainFactory>();
        var session = await grains.GetGrain<IUserGrain>(userId).AuthenticateAsync(token) ?? throw UnknownToken();
        // An expired token of a refreshable session: the client refreshes it rather than logging in again.
        if (session.IsExpired(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())) throw ExpiredToken();
        context.Items[SessionKey] = session;
        return RequireGuestAllowed(context, session);
    }

    // Guest Access module: a guest's session is good only for the endpoints guests may call; a locked or suspended
    // account's only for what its moderation leaves it.
    private static Session RequireGuestAllowed(HttpContext context, Session session)
    {
        if (session.IsGuest) GuestAccessPolicy.RequireAllowed(context.Request);
        if (session.IsLocked || session.IsSuspended) AccountModerationPolicy.RequireAllowed(context.Request, session);
        return session;
    }

    /// <summary>The raw access token of the request, or null.</summary>
    public static string? ReadAccessToken(HttpRequest request)
    {
        if (request.Headers.TryGetValue("Authorization", out StringValues header))
        {
            var value = header.ToString();
            return value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value["Bearer ".Length..].Trim() : null;
        }
        return request.Query.TryGetValue("access_token", out var query) ? query.ToString() : null;
    }

    private static MatrixException ExpiredToken() =>
        new(StatusCodes.Status401Unauthorized, new MatrixError("M_UNKNOWN_TOKEN", "The access token has expired.") { SoftLogout = true });

    private static MatrixException UnknownToken() =>
        new(StatusCodes.Status401Unauthorized, new MatrixError("M_UNKNOWN_TOKEN", "Unknown or expired access token.") { SoftLogout = false });
}
