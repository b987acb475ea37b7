using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Errors;

/// <summary>The HTTP status the Client-Server API uses for each error code a grain can refuse a request with.</summary>
internal static class MatrixErrorStatus
{
    public static int For(string errcode) => errcode switch
    {
        "M_FORBIDDEN" or "M_GUEST_ACCESS_FORBIDDEN" => StatusCodes.Status403Forbidden,
        "M_NOT_FOUND" => StatusCodes.Status404NotFound,
        "M_UNKNOWN_TOKEN" or "M_MISSING_TOKEN" => StatusCodes.Status401Unauthorized,
        "M_LIMIT_EXCEEDED" => StatusCodes.Status429TooManyRequests,
        "M_TOO_LARGE" => StatusCodes.Status413PayloadTooLarge,
        "M_UNRECOGNIZED" => StatusCodes.Status404NotFound,
        "M_UNKNOWN" => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };
}
