using System.Threading.RateLimiting;

namespace HomeServer.Gateway.RateLimiting;

/// <summary>
/// The buckets this gateway counts by itself, in memory: per client address and, for cheap requests, per user. Each
/// gateway counts its own traffic, so behind N gateways a client may get up to N times the rate.
/// </summary>
internal sealed class GatewayRateLimiters(RateLimitOptions options) : IDisposable
{
    // The partitioned limiter replenishes its partitions every 100 ms, so a period shorter than that would lose tokens.
    private static readonly TimeSpan ShortestPeriod = TimeSpan.FromMilliseconds(100);

    private readonly PartitionedRateLimiter<(RateLimitBucket Bucket, string Key)> _limiter =
        PartitionedRateLimiter.Create<(RateLimitBucket Bucket, string Key), (RateLimitBucket, string)>(resource =>
            RateLimitPartition.GetTokenBucketLimiter(resource, partition => LimiterOptions(options.For(partition.Item1))));

    /// <summary>
    /// Takes <paramref name="cost"/> tokens, or answers how long to wait (in ms) when there are not enough. A cost of 0
    /// only checks that the bucket is not empty.
    /// </summary>
    public long? TryTake(RateLimitBucket bucket, string key, int cost = 1)
    {
        cost = Math.Min(cost, options.For(bucket).Burst);
        using var lease = _limiter.AttemptAcquire((bucket, key), cost);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero
            ? (long)Math.Ceiling(retryAfter.TotalMilliseconds)
            : (long)Math.Ceiling(1000 / options.For(bucket).PerSecond);
    }

    private static TokenBucketRateLimiterOptions LimiterOptions(TokenBucketOptions bucket)
    {
        var period = TimeSpan.FromSeconds(1 / bucket.PerSecond);
        var tokensPerPeriod = 1;
        if (period < ShortestPeriod)
        {
            period = ShortestPeriod;
            tokensPerPeriod = (int)Math.Ceiling(bucket.PerSecond * ShortestPeriod.TotalSeconds);
        }
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Burst,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            // The partitioned limiter's own timer replenishes every partition.
            AutoReplenishment = false,
        };
    }

    public void Dispose() => _limiter.Dispose();
}
