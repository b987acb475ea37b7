using HomeServer.Gateway.Auth;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Lets only server admins reach a browser page, such as the Orleans dashboard, whose scripts cannot add a bearer
/// header to their own requests. The admin opens the page once with <c>?access_token=</c>; once the token is known to
/// be an admin's, it is put in an HttpOnly, SameSite=Strict cookie scoped to the page's path, and the browser is sent to
/// the same address without the token, so it leaves the address bar and the history. Later requests under the path are
/// authenticated with the cookie. The token is checked with the user's grain on every request, as a bearer token is,
/// so a logged-out or revoked token stops working at once. The cookie is never read anywhere else (the Matrix API).
/// </summary>
internal sealed class ServerAdminPageMiddleware(RequestDelegate next, PathString path)
{
    internal const string CookieName = "homeserver_admin_token";

    private const string QueryParameter = "access_token";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.Path.StartsWithSegments(path))
        {
            await next(context);
            return;
        }

        // A bearer header or access_token wins over the cookie, as it may be another admin's.
        var token = SessionAuthentication.ReadAccessToken(request);
        var fromQuery = token is not null && !request.Headers.ContainsKey("Authorization");
        await context.RequireAdminSessionAsync(token ?? request.Cookies[CookieName]);

        if (fromQuery && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            context.Response.Cookies.Append(CookieName, token!, new CookieOptions
            {
                Path = request.PathBase.Add(path),
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = request.IsHttps,
            });
            context.Response.Headers.CacheControl = "no-store";
            var query = QueryString.Create(request.Query.Where(parameter => !string.Equals(parameter.Key, QueryParameter, StringComparison.OrdinalIgnoreCase)));
            context.Response.Redirect(request.PathBase + request.Path + query);
            return;
        }
        await next(context);
    }
}
