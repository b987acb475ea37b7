using HomeServer.Gateway.Json;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Errors;

internal static class MatrixErrorResponse
{
    public static readonly MatrixError Unrecognized = new(MatrixErrorCode.Unrecognized, "Unrecognized request");

    public static readonly MatrixError TooLarge = new(MatrixErrorCode.TooLarge, "Request body too large.");

    public static readonly MatrixError InternalError = new(MatrixErrorCode.Unknown, "Internal server error");

    /// <summary>
    /// For 503: the request did not complete because part of the server is briefly unavailable. The spec has no
    /// error code for that; M_LIMIT_EXCEEDED with retry_after_ms is the one Matrix clients (matrix-js-sdk, the
    /// Element apps) retry after the given delay without giving up, whereas on M_UNKNOWN they give up after a few tries.
    /// </summary>
    public static MatrixError Unavailable(string message) => new(MatrixErrorCode.LimitExceeded, message) { RetryAfterMs = 1000 };

    public static Task WriteAsync(HttpResponse response, int statusCode, MatrixError error)
    {
        response.StatusCode = statusCode;
        return response.WriteAsJsonAsync(error, GatewayJsonContext.Default.MatrixError, contentType: null, response.HttpContext.RequestAborted);
    }
}
