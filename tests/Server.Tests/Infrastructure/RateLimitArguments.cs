using HomeServer.Gateway.RateLimiting;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>Command-line settings for the rate limits of test servers.</summary>
public static class RateLimitArguments
{
    /// <summary>
    /// Every bucket far above anything a test does. The suite registers users and sends messages from one address as
    /// fast as it can; only the rate limit tests, which pass tight buckets after these, are meant to meet a limit.
    /// </summary>
    public static readonly string[] Generous =
    [
        .. Enum.GetValues<RateLimitBucket>().SelectMany(bucket => Bucket(bucket, 100_000, 100_000)),
        // The in-flight bounds too: only the overload tests, which pass tight bounds after these, are meant to meet them.
        "--Overload:MaxConcurrentRequests=100000", "--Overload:MaxConcurrentRequestsPerUser=100000",
    ];

    public static string[] Bucket(RateLimitBucket bucket, double perSecond, int burst) =>
        [$"--RateLimits:{bucket}:PerSecond={perSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)}", $"--RateLimits:{bucket}:Burst={burst}"];
}
