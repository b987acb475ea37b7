using Microsoft.AspNetCore.Http;
using HomeServer.Gateway.Errors;

namespace HomeServer.Gateway.Accounts;

/// <summary>The passwords this server accepts for new accounts and password changes.</summary>
internal static class AccountPasswords
{
    /// <summary>As Synapse: long enough for any passphrase, short enough that hashing stays cheap to refuse.</summary>
    public const int MaxLength = 512;

    public static string RequireAcceptable(string? password, string name = "password")
    {
        if (password is null) throw AccountErrors.MissingParam($"Missing parameter: {name}.");
        if (password.Length == 0) throw new MatrixException(StatusCodes.Status400BadRequest, "M_WEAK_PASSWORD", "The password must not be empty.");
        if (password.Length > MaxLength || password.Contains('\0'))
            throw AccountErrors.InvalidParam($"The password must be at most {MaxLength} characters without NUL characters.");
        return password;
    }
}
