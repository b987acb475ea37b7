using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

internal sealed partial class RegistrationOptionsValidator : IValidateOptions<RegistrationOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistrationOptions options)
    {
        var failures = new List<string>();
        if (options.Mode is { } mode && !Enum.IsDefined(mode))
        {
            failures.Add($"Registration:Mode must be open, token or disabled (got '{mode}').");
        }

        if (options.Mode == RegistrationMode.Token && options.Tokens.Count == 0)
        {
            failures.Add("Registration:Mode is token but Registration:Tokens is empty, so nobody could register.");
        }

        // Tokens are not echoed: they are secrets.
        if (options.Tokens.Any(token => !TokenPattern().IsMatch(token)))
        {
            failures.Add("Every entry of Registration:Tokens must be 1 to 64 characters from A-Z a-z 0-9 . _ ~ -.");
        }

        if (options.SharedSecret is { Length: 0 })
        {
            failures.Add("Registration:SharedSecret must not be empty when set.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9._~-]{1,64}$")]
    private static partial Regex TokenPattern();
}
