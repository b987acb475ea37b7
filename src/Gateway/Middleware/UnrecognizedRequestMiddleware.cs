using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Routing answers an unknown path with an empty 404 and a known path with the wrong method with an
/// empty 405; under <c>/_matrix</c> the spec wants both to carry <c>M_UNRECOGNIZED</c>.
/// </summary>
internal sealed class UnrecognizedRequestMiddleware(RequestDelegate next)
{
    private static readonly PathString MatrixPrefix = "/_matrix";

    public Task InvokeAsync(HttpContext context) =>
        context.Request.Path.StartsWithSegments(MatrixPrefix) ? InvokeForMatrixAsync(context) : next(context);

    private async Task InvokeForMatrixAsync(HttpContext context)
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
