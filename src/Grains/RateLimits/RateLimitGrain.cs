using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.RateLimits;

/// <summary>
/// The token buckets of one subject. Buckets live in memory, where a full one is simply absent; those of persisted rules
/// are read from the store at activation and written back when they change, so a restarted or moved activation keeps
/// counting where the last one stopped. A stored bucket found full again is deleted, so rows exist only for subjects
/// that were limited lately.
/// </summary>
[GrainType("rate-limit")]
public sealed class RateLimitGrain(IHomeServerStore store) : HomeServerGrain, IRateLimitGrain
{
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly Dictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _storedActions = new(StringComparer.Ordinal);

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var stored in await store.RateLimits.GetBucketsAsync(Key, cancellationToken))
        {
            _buckets[stored.Action] = new TokenBucket(stored.Tokens, stored.UpdatedTs);
            _storedActions.Add(stored.Action);
        }
    }

    public async Task<RateLimitDecision> TryTakeAsync(RateLimitRule rule, int cost = 1)
    {
        RequireValid(rule, cost);
        var bucket = await CurrentAsync(rule);
        if (bucket.Tokens < cost) return new RateLimitDecision(false, bucket.MillisecondsUntil(cost, rule));
        await SetAsync(rule, bucket.Take(cost));
        return RateLimitDecision.Allow;
    }

    public async Task<RateLimitDecision> CheckAsync(RateLimitRule rule)
    {
        RequireValid(rule, 1);
        var bucket = await CurrentAsync(rule);
        return bucket.Tokens >= 1 ? RateLimitDecision.Allow : new RateLimitDecision(false, bucket.MillisecondsUntil(1, rule));
    }

    public async Task PenalizeAsync(RateLimitRule rule, int cost = 1)
    {
        RequireValid(rule, cost);
        await SetAsync(rule, (await CurrentAsync(rule)).Take(cost));
    }

    /// <summary>The bucket now. One that has refilled is forgotten, and so is its row: a full bucket needs none.</summary>
    private async Task<TokenBucket> CurrentAsync(RateLimitRule rule)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (!_buckets.TryGetValue(rule.Action, out var bucket)) return TokenBucket.Full(rule, now);
        bucket = bucket.At(now, rule);
        if (!bucket.IsFull(rule)) return bucket;
        _buckets.Remove(rule.Action);
        if (rule.Persisted && _storedActions.Remove(rule.Action)) await store.RateLimits.DeleteBucketAsync(Key, rule.Action, CancellationToken.None);
        return bucket;
    }

    private async Task SetAsync(RateLimitRule rule, TokenBucket bucket)
    {
        _buckets[rule.Action] = bucket;
        if (!rule.Persisted) return;
        await store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Key, rule.Action, bucket.Tokens, bucket.UpdatedMs), CancellationToken.None);
        _storedActions.Add(rule.Action);
    }

    private static void RequireValid(RateLimitRule rule, int cost)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (string.IsNullOrEmpty(rule.Action) || !(rule.PerSecond > 0) || !double.IsFinite(rule.PerSecond) || rule.Burst < 1)
            throw new ArgumentException("A rate limit needs an action, a positive finite rate and a burst of at least 1.", nameof(rule));
        if (cost < 1 || cost > rule.Burst) throw new ArgumentOutOfRangeException(nameof(cost), "The cost must be between 1 and the burst.");
    }
}
