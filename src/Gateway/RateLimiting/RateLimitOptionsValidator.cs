using HomeServer.Grains.Identifiers;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.RateLimiting;

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    /// <summary>About one token in 12 days: a slower bucket would be a ban, which is not what these settings are for.</summary>
    private const double MinimumPerSecond = 0.000001;

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        foreach (var bucket in Enum.GetValues<RateLimitBucket>())
        {
            var limit = options.For(bucket);
            if (!double.IsFinite(limit.PerSecond) || limit.PerSecond < MinimumPerSecond)
                failures.Add($"RateLimits:{bucket}:PerSecond must be a number of at least {MinimumPerSecond} (got {limit.PerSecond}).");
            if (limit.Burst < 1)
                failures.Add($"RateLimits:{bucket}:Burst must be at least 1 (got {limit.Burst}).");
        }
        foreach (var user in options.ExemptUsers.Where(user => !UserId.IsValid(user)))
        {
            failures.Add($"RateLimits:ExemptUsers: '{user}' is not a user id.");
        }
        foreach (var proxy in options.TrustedProxies.Where(proxy => !TrustedProxies.TryParse(proxy, out _)))
        {
            failures.Add($"RateLimits:TrustedProxies: '{proxy}' is neither an IP address nor a network like 10.0.0.0/8.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
