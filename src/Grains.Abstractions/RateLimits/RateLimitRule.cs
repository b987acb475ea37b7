using Orleans;

namespace HomeServer.Grains.RateLimits;

/// <summary>
/// One token bucket of a subject: it holds at most <paramref name="Burst"/> tokens and gains <paramref name="PerSecond"/>
/// per second. The caller sends the rule with every call, so configuration lives with the gateway that enforces it.
/// </summary>
/// <param name="Action">Names the bucket among the subject's buckets, e.g. <c>login.failed</c>.</param>
/// <param name="Persisted">Kept in the store, so the bucket survives deactivation and restarts of the silo.</param>
[GenerateSerializer, Alias("hs.RateLimitRule")]
public sealed record RateLimitRule(string Action, double PerSecond, int Burst, bool Persisted = false);

/// <param name="RetryAfterMs">When refused: how long until the tokens asked for are there.</param>
[GenerateSerializer, Alias("hs.RateLimitDecision")]
public readonly record struct RateLimitDecision(bool Allowed, long RetryAfterMs)
{
    public static RateLimitDecision Allow => new(true, 0);
}
