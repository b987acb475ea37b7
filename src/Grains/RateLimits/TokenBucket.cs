namespace HomeServer.Grains.RateLimits;

/// <summary>A token bucket at a point in time; <see cref="At"/> refills it to a later one.</summary>
internal readonly record struct TokenBucket(double Tokens, long UpdatedMs)
{
    public static TokenBucket Full(RateLimitRule rule, long nowMs) => new(rule.Burst, nowMs);

    public bool IsFull(RateLimitRule rule) => Tokens >= rule.Burst;

    /// <summary>The bucket at <paramref name="nowMs"/>; a clock that went back refills nothing.</summary>
    public TokenBucket At(long nowMs, RateLimitRule rule)
    {
        if (nowMs <= UpdatedMs) return this;
        var refilled = Tokens + (nowMs - UpdatedMs) / 1000.0 * rule.PerSecond;
        return new TokenBucket(Math.Min(rule.Burst, refilled), nowMs);
    }

    /// <summary>Milliseconds until the bucket holds <paramref name="tokens"/>, at least 1 when it does not now.</summary>
    public long MillisecondsUntil(double tokens, RateLimitRule rule) =>
        Tokens >= tokens ? 0 : Math.Max(1, (long)Math.Ceiling((tokens - Tokens) / rule.PerSecond * 1000));

    public TokenBucket Take(int cost) => this with { Tokens = Math.Max(0, Tokens - cost) };
}
