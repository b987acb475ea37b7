using HomeServer.Gateway.Middleware;
using HomeServer.Gateway.Overload;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway;

public static class MatrixGatewayApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the gateway's middleware: the client address from <c>X-Forwarded-For</c> of trusted proxies (first, so
    /// everything after it, request logs and rate limits included, sees the client's address), request logs without
    /// query strings, <c>nosniff</c> and CORS headers and preflight answers, the in-flight bounds (429 when saturated), Matrix errors for every exception,
    /// <c>M_UNRECOGNIZED</c> for unknown paths and methods, the r0 paths of older clients, and the request body size limits.
    /// Call before mapping endpoints.
    /// </summary>
    public static IApplicationBuilder UseMatrixGateway(this IApplicationBuilder app)
    {
        app.UseForwardedHeaders();
        app.UseHttpLogging();
        app.UseMiddleware<NoSniffMiddleware>();
        app.UseMiddleware<MatrixCorsMiddleware>();
        // After CORS, so that a browser client can read the 429 of a shed request; before everything that does work.
        app.UseMiddleware<OverloadAdmissionMiddleware>();
        app.UseMiddleware<MatrixExceptionMiddleware>();
        app.UseMiddleware<UnrecognizedRequestMiddleware>();
        // The r0 paths are rewritten to v3 before routing picks the endpoint, so routing comes explicitly after it.
        app.UseMiddleware<LegacyPathMiddleware>();
        app.UseRouting();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }

    /// <summary>Only server admins may reach the operator pages under <paramref name="paths"/>. Call after <see cref="UseMatrixGateway"/>.</summary>
    public static IApplicationBuilder UseServerAdminOnly(this IApplicationBuilder app, params PathString[] paths) =>
        app.UseMiddleware<ServerAdminOnlyMiddleware>(paths);

    /// <summary>
    /// Only server admins may reach the browser page under <paramref name="path"/> (the Orleans dashboard): opened once
    /// with <c>?access_token=</c>, then authenticated by a cookie scoped to the path. Call after <see cref="UseMatrixGateway"/>.
    /// </summary>
    public static IApplicationBuilder UseServerAdminPage(this IApplicationBuilder app, PathString path) =>
        app.UseMiddleware<ServerAdminPageMiddleware>(path);
}
