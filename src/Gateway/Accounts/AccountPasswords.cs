using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Accounts;

/// <summary>The passwords this server accepts for new accounts and password changes: within bounds and the configured policy.</summary>
internal sealed class AccountPasswords(IOptions<PasswordPolicyOptions> options)
{
    /// <summary>As Synapse: long enough for any passphrase, short enough that hashing stays cheap to refuse.</summary>
    public const int MaxLength = 512;

    private readonly PasswordPolicyOptions _policy = options.Value;

    public string RequireAcceptable(string? password, string name = "password")
    {
        if (password is null) throw AccountErrors.MissingParam($"Missing parameter: {name}.");
        if (password.Length > MaxLength || password.Contains('\0'))
            throw AccountErrors.InvalidParam($"The password must be at most {MaxLength} characters without NUL characters.");
        if (WeaknessOf(password) is { } weakness) throw new MatrixException(StatusCodes.Status400BadRequest, "M_WEAK_PASSWORD", weakness);
        return password;
    }

    private string? WeaknessOf(string password)
    {
        // Counted in Unicode scalar values, as a user counts characters; a surrogate pair is one.
        if (password.EnumerateRunes().Count() < _policy.MinimumLength)
            return $"The password must be at least {_policy.MinimumLength} characters long.";
        if (_policy.RequireDigit && !password.Any(char.IsDigit)) return "The password must contain a digit.";
        if (_policy.RequireLowercase && !password.Any(char.IsLower)) return "The password must contain a lowercase letter.";
        if (_policy.RequireUppercase && !password.Any(char.IsUpper)) return "The password must contain an uppercase letter.";
        if (_policy.RequireSymbol && password.All(char.IsLetterOrDigit)) return "The password must contain a symbol.";
        return null;
    }
}
