using HomeServer.Gateway.Json;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Errors;

internal static class MatrixErrorResponse
{
    public static readonly MatrixError Unrecognized = new(MatrixErrorCode.Unrecognized, "Unrecognized request");

    public static readonly MatrixError TooLarge = new(MatrixErrorCode.TooLarge, "Request body too large.");

    public static readonly MatrixError InternalError = new(MatrixErrorCode.Unknown, "Internal server error");

    public static Task WriteAsync(HttpResponse response, int statusCode, MatrixError error)
    {
        response.StatusCode = statusCode;
        return response.WriteAsJsonAsync(error, GatewayJsonContext.Default.MatrixError, contentType: null, response.HttpContext.RequestAborted);
    }
}
