using HomeServer.Gateway.Errors;
using HomeServer.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Turns every exception into a Matrix error. Unexpected ones become 500 <c>M_UNKNOWN</c> with a
/// fixed message: details stay in the server log, never in the response. A grain or the store that is
/// briefly unreachable becomes 503 with <c>Retry-After</c>, which clients retry.
/// </summary>
internal sealed partial class MatrixExceptionMiddleware(RequestDelegate next, ILogger<MatrixExceptionMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            LogRequestAborted(context.Request.Method, context.Request.Path);
        }
        catch (Exception exception) when (!context.Response.HasStarted)
        {
            var (statusCode, error) = Classify(exception, context);
            context.Response.Clear();
            if (error.RetryAfterMs is { } retryAfterMs)
            {
                // Whole seconds, rounded up: a client that waits exactly this long finds the tokens there.
                context.Response.Headers.RetryAfter = Math.Max(1, (retryAfterMs + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            await MatrixErrorResponse.WriteAsync(context.Response, statusCode, error);
        }
    }

    private (int StatusCode, MatrixError Error) Classify(Exception exception, HttpContext context)
    {
        switch (exception)
        {
            case MatrixException matrix:
                return (matrix.StatusCode, matrix.Error);
            case MatrixRequestException { ErrCode: Grains.Federation.RemoteServerFailure.ErrCode } remote:
                return (StatusCodes.Status502BadGateway, new MatrixError(MatrixErrorCode.Unknown, remote.Error));
            case MatrixRequestException refused:
                // A grain's M_LIMIT_EXCEEDED (too many waiting /sync requests) is soon over; clients wait retry_after_ms.
                return (MatrixErrorStatus.For(refused.ErrCode), new MatrixError(refused.ErrCode, refused.Error)
                {
                    RetryAfterMs = refused.ErrCode == MatrixErrorCode.LimitExceeded ? 1000 : null,
                });
            case RoomBusyException or OrleansMessageRejectionException or ConnectionFailedException or TimeoutException
                or GatewayTooBusyException or ClientNotAvailableException:
                LogUnavailable(exception, context.Request.Method, context.Request.Path);
                return (StatusCodes.Status503ServiceUnavailable, MatrixErrorResponse.Unavailable("The server is busy; try again shortly."));
            case StoreUnavailableError:
                LogStoreUnavailable(exception.Message, context.Request.Method, context.Request.Path);
                return (StatusCodes.Status503ServiceUnavailable, MatrixErrorResponse.Unavailable("The database is briefly unavailable; try again shortly."));
            case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge:
                LogBadRequest(context.Request.Method, context.Request.Path, tooLarge.Message);
                return (tooLarge.StatusCode, MatrixErrorResponse.TooLarge);
            case BadHttpRequestException badRequest:
                LogBadRequest(context.Request.Method, context.Request.Path, badRequest.Message);
                return (badRequest.StatusCode, new MatrixError(MatrixErrorCode.Unknown, "Bad request"));
            default:
                LogUnhandled(exception, context.Request.Method, context.Request.Path);
                return (StatusCodes.Status500InternalServerError, MatrixErrorResponse.InternalError);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception while serving {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grain unavailable while serving {Method} {Path}")]
    private partial void LogUnavailable(Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store unavailable while serving {Method} {Path}: {Reason}")]
    private partial void LogStoreUnavailable(string reason, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected {Method} {Path}: {Reason}")]
    private partial void LogBadRequest(string method, PathString path, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client went away during {Method} {Path}")]
    private partial void LogRequestAborted(string method, PathString path);
}
