using System.Data.Common;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (!Enum.IsDefined(options.Kind))
        {
            return ValidateOptionsResult.Fail($"Storage:Kind must be sqlite or postgres (got '{options.Kind}').");
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail($"Storage:ConnectionString is required when Storage:Kind is {options.Kind.ToString().ToLowerInvariant()}.");
        }

        try
        {
            _ = new DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
        }
        catch (ArgumentException)
        {
            // The connection string is not echoed: it may hold a password.
            return ValidateOptionsResult.Fail("Storage:ConnectionString is not a valid key=value;... connection string.");
        }

        return ValidateOptionsResult.Success;
    }
}
