using HomeServer.Grains.Serialization;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Limits;

internal sealed class InputLimitsOptionsValidator : IValidateOptions<InputLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, InputLimitsOptions options)
    {
        var failures = new List<string>();
        Positive(options.MaxJsonDepth, nameof(options.MaxJsonDepth));
        Positive(options.MaxEventBodyBytes, nameof(options.MaxEventBodyBytes));
        Positive(options.MaxSmallBodyBytes, nameof(options.MaxSmallBodyBytes));
        Positive(options.MaxInvitesPerRoomCreation, nameof(options.MaxInvitesPerRoomCreation));
        Positive(options.MaxInitialStateEvents, nameof(options.MaxInitialStateEvents));
        Positive(options.MaxFilterListItems, nameof(options.MaxFilterListItems));
        Positive(options.MaxFilterStringBytes, nameof(options.MaxFilterStringBytes));
        if (options.MaxJsonDepth > StoredJson.MaxClientDepth)
            failures.Add($"{InputLimitsOptions.SectionName}:MaxJsonDepth must be at most {StoredJson.MaxClientDepth} (got {options.MaxJsonDepth}).");
        if (options.MaxConnectionsPerIp < 0)
            failures.Add($"{InputLimitsOptions.SectionName}:MaxConnectionsPerIp must be 0 (no limit) or more (got {options.MaxConnectionsPerIp}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(long value, string key)
        {
            if (value <= 0) failures.Add($"{InputLimitsOptions.SectionName}:{key} must be greater than zero (got {value}).");
        }
    }
}
