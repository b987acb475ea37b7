using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.RateLimits;

/// <summary>
/// The token buckets of one subject. Buckets live in memory, where a full one is simply absent; those of persisted rules
/// are read from the store at activation and written back when they change, so a restarted or moved activation keeps
/// counting where the last one stopped.
/// </summary>
[GrainType("rate-limit")]
public sealed class RateLimitGrain(IHomeServerStore store) : HomeServerGrain, IRateLimitGrain
{
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly Dictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var stored in await store.RateLimits.GetBucketsAsync(Key, cancellationToken))
        {
            _buckets[stored.Action] = new TokenBucket(stored.Tokens, stored.UpdatedTs);
        }
    }

    public async Task<RateLimitDecision> TryTakeAsync(RateLimitRule rule, int cost = 1)
    {
        RequireValid(rule, cost);
        var bucket = Current(rule);
        if (bucket.Tokens < cost) return new RateLimitDecision(false, bucket.MillisecondsUntil(cost, rule));
        await SetAsync(rule, bucket.Take(cost));
        return RateLimitDecision.Allow;
    }

    public Task<RateLimitDecision> CheckAsync(RateLimitRule rule)
    {
        RequireValid(rule, 1);
        var bucket = Current(rule);
        return Task.FromResult(bucket.Tokens >= 1 ? RateLimitDecision.Allow : new RateLimitDecision(false, bucket.MillisecondsUntil(1, rule)));
    }

    public Task PenalizeAsync(RateLimitRule rule, int cost = 1)
    {
        RequireValid(rule, cost);
        return SetAsync(rule, Current(rule).Take(cost));
    }

    private TokenBucket Current(RateLimitRule rule)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        return _buckets.TryGetValue(rule.Action, out var bucket) ? bucket.At(now, rule) : TokenBucket.Full(rule, now);
    }

    private async Task SetAsync(RateLimitRule rule, TokenBucket bucket)
    {
        var full = bucket.IsFull(rule);
        if (full) _buckets.Remove(rule.Action);
        else _buckets[rule.Action] = bucket;
        if (!rule.Persisted) return;
        if (full) await store.RateLimits.DeleteBucketAsync(Key, rule.Action, CancellationToken.None);
        else await store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Key, rule.Action, bucket.Tokens, bucket.UpdatedMs), CancellationToken.None);
    }

    private static void RequireValid(RateLimitRule rule, int cost)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (string.IsNullOrEmpty(rule.Action) || !(rule.PerSecond > 0) || !double.IsFinite(rule.PerSecond) || rule.Burst < 1)
            throw new ArgumentException("A rate limit needs an action, a positive finite rate and a burst of at least 1.", nameof(rule));
        if (cost < 1 || cost > rule.Burst) throw new ArgumentOutOfRangeException(nameof(cost), "The cost must be between 1 and the burst.");
    }
}
