using Orleans;

namespace HomeServer.Grains.RateLimits;

/// <summary>
/// The token buckets of one subject (key: a user id or a room id), one per action. One activation in the cluster counts
/// for every gateway; buckets of persisted rules are also kept in the store.
/// </summary>
[Alias("rate-limit")]
public interface IRateLimitGrain : IGrainWithStringKey
{
    /// <summary>Takes <paramref name="cost"/> tokens when the bucket has them; otherwise takes nothing and says when it will.</summary>
    /// <remarks>
    /// Sent again when its silo is lost: at worst a request pays twice, which beats holding it for the response timeout.
    /// </remarks>
    [Idempotent]
    Task<RateLimitDecision> TryTakeAsync(RateLimitRule rule, int cost = 1);

    /// <summary>Whether the bucket holds at least one token, without taking any.</summary>
    [Idempotent]
    Task<RateLimitDecision> CheckAsync(RateLimitRule rule);

    /// <summary>Takes <paramref name="cost"/> tokens whatever the bucket holds, leaving it empty at worst (a failed login).</summary>
    [Idempotent]
    Task PenalizeAsync(RateLimitRule rule, int cost = 1);
}
