using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// The Client-Server API requires these headers on every response so browser clients on any
/// origin can call it, and an answer to every OPTIONS preflight.
/// </summary>
internal sealed class MatrixCorsMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Added when the response starts, so that responses rewritten by the exception middleware keep them.
        context.Response.OnStarting(AddHeaders, context.Response);

        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        return next(context);
    }

    private static Task AddHeaders(object state)
    {
        var headers = ((HttpResponse)state).Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = "GET, POST, PUT, DELETE, OPTIONS";
        headers.AccessControlAllowHeaders = "X-Requested-With, Content-Type, Authorization";
        return Task.CompletedTask;
    }
}
