using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Every response says <c>X-Content-Type-Options: nosniff</c>, so a browser never runs a JSON body (which may echo what
/// a client sent) as a script or page because it looks like one.
/// </summary>
internal sealed class NoSniffMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Added when the response starts, so that responses rewritten by the exception middleware keep it.
        context.Response.OnStarting(static state =>
        {
            ((HttpResponse)state).Headers.XContentTypeOptions = "nosniff";
            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}
