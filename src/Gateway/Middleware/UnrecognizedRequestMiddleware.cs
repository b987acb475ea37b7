using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Routing answers an unknown path with an empty 404 and a known path with the wrong method with an
/// empty 405; the spec wants both to carry <c>M_UNRECOGNIZED</c>. Every path of the server gets that answer, not only
/// those under <c>/_matrix</c>: <c>/.well-known/matrix</c> is part of the API too, and and a client cannot tell
/// the operator's paths from the API's.
/// </summary>
internal sealed class UnrecognizedRequestMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        var statusCode = context.Response.StatusCode;
        if (statusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed
            && !context.Response.HasStarted)
        {
            await MatrixErrorResponse.WriteAsync(context.Response, statusCode, MatrixErrorResponse.Unrecognized);
        }
    }
}
