using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Errors;

/// <summary>
/// Thrown anywhere below an endpoint to answer the request with a Matrix error;
/// the gateway's exception middleware writes <see cref="Error"/> with <see cref="StatusCode"/>.
/// </summary>
public sealed class MatrixException(int statusCode, MatrixError error) : Exception(error.Error)
{
    public MatrixException(int statusCode, string errCode, string message)
        : this(statusCode, new MatrixError(errCode, message))
    {
    }

    public int StatusCode { get; } = statusCode;

    public MatrixError Error { get; } = error;

    public static MatrixException NotJson(string message = "Content not JSON.") =>
        new(StatusCodes.Status400BadRequest, MatrixErrorCode.NotJson, message);

    public static MatrixException BadJson(string message) =>
        new(StatusCodes.Status400BadRequest, MatrixErrorCode.BadJson, message);
}
