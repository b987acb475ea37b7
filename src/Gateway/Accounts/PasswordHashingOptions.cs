using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Accounts;

/// <summary>Bound from the <c>PasswordHashing</c> section.</summary>
public sealed class PasswordHashingOptions
{
    public const string SectionName = "PasswordHashing";

    /// <summary>The OWASP recommendation for PBKDF2-HMAC-SHA512 (2023).</summary>
    public const int DefaultIterations = 210_000;

    /// <summary>
    /// PBKDF2 iterations for new hashes. Existing hashes keep the count they were made with. Lower it only for tests
    /// and benchmarks, which would otherwise spend most of their time hashing.
    /// </summary>
    public int Iterations { get; set; } = DefaultIterations;
}

internal sealed class PasswordHashingOptionsValidator : IValidateOptions<PasswordHashingOptions>
{
    public ValidateOptionsResult Validate(string? name, PasswordHashingOptions options) =>
        options.Iterations is >= 1 and <= PasswordHasher.MaxIterations
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"PasswordHashing:Iterations must be between 1 and {PasswordHasher.MaxIterations} (got {options.Iterations}).");
}
