using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Accounts;

/// <summary>The refusals the account endpoints answer with.</summary>
internal static class AccountErrors
{
    public static MatrixException Forbidden(string message) => new(StatusCodes.Status403Forbidden, "M_FORBIDDEN", message);

    public static MatrixException NotFound(string message) => new(StatusCodes.Status404NotFound, "M_NOT_FOUND", message);

    public static MatrixException MissingParam(string message) => new(StatusCodes.Status400BadRequest, "M_MISSING_PARAM", message);

    public static MatrixException InvalidParam(string message) => new(StatusCodes.Status400BadRequest, "M_INVALID_PARAM", message);

    public static MatrixException InvalidUsername(string message = "The desired username is not a valid user name.") =>
        new(StatusCodes.Status400BadRequest, "M_INVALID_USERNAME", message);

    public static MatrixException UserInUse() => new(StatusCodes.Status400BadRequest, "M_USER_IN_USE", "Desired user ID is already taken.");

    /// <summary>A user id in the path that is not one: the spec's M_INVALID_PARAM.</summary>
    public static MatrixException InvalidUserId(string userId) => InvalidParam($"{userId} is not a valid user ID.");
}
