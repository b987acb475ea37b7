using HomeServer.Gateway.Auth;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Lets only server admins (a valid access token of an admin account) reach the operator pages under the given paths,
/// such as the metrics scrape endpoint; others get the Matrix error (401 or 403). Browser pages use
/// <see cref="ServerAdminPageMiddleware"/>.
/// </summary>
internal sealed class ServerAdminOnlyMiddleware(RequestDelegate next, PathString[] paths)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (paths.Any(path => context.Request.Path.StartsWithSegments(path))) await context.RequireAdminSessionAsync();
        await next(context);
    }
}
