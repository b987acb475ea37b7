using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Overload;

internal sealed class OverloadOptionsValidator : IValidateOptions<OverloadOptions>
{
    public ValidateOptionsResult Validate(string? name, OverloadOptions options)
    {
        var failures = new List<string>();
        AtLeast(options.MaxConcurrentRequests, 1, nameof(options.MaxConcurrentRequests));
        AtLeast(options.QueueLimit, 0, nameof(options.QueueLimit));
        AtLeast(options.MaxConcurrentRequestsPerUser, 1, nameof(options.MaxConcurrentRequestsPerUser));
        AtLeast(options.QueueLimitPerUser, 0, nameof(options.QueueLimitPerUser));
        if (options.MaxQueueWait < TimeSpan.Zero)
            failures.Add($"{OverloadOptions.SectionName}:MaxQueueWait must not be negative (got {options.MaxQueueWait}).");
        if (options.RetryAfter < TimeSpan.FromMilliseconds(1) || options.RetryAfter > TimeSpan.FromHours(1))
            failures.Add($"{OverloadOptions.SectionName}:RetryAfter must be between 1 ms and 1 hour (got {options.RetryAfter}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void AtLeast(int value, int minimum, string key)
        {
            if (value < minimum) failures.Add($"{OverloadOptions.SectionName}:{key} must be at least {minimum} (got {value}).");
        }
    }
}
