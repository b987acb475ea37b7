using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Accounts;

/// <summary>
/// Bound from the <c>PasswordPolicy</c> section: what a new password (registration, password change) must contain.
/// Refusals are 400 <c>M_WEAK_PASSWORD</c>.
/// </summary>
public sealed class PasswordPolicyOptions
{
    public const string SectionName = "PasswordPolicy";

    /// <summary>Eight characters, the least NIST SP 800-63B accepts for a password the user chose.</summary>
    public int MinimumLength { get; set; } = 8;

    public bool RequireDigit { get; set; }

    public bool RequireLowercase { get; set; }

    public bool RequireUppercase { get; set; }

    /// <summary>At least one character that is neither a letter nor a digit.</summary>
    public bool RequireSymbol { get; set; }
}

internal sealed class PasswordPolicyOptionsValidator : IValidateOptions<PasswordPolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, PasswordPolicyOptions options) =>
        options.MinimumLength is >= 1 and <= AccountPasswords.MaxLength
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"PasswordPolicy:MinimumLength must be between 1 and {AccountPasswords.MaxLength} (got {options.MinimumLength}).");
}
