using HomeServer.Grains.RateLimits;

namespace HomeServer.Grains.Tests.RateLimits;

public sealed class TokenBucketTests
{
    private static readonly RateLimitRule TwoPerSecond = new("test", PerSecond: 2, Burst: 3);

    [Fact]
    public void A_bucket_refills_at_the_rate_up_to_the_burst()
    {
        var empty = new TokenBucket(0, 1_000);

        Assert.Equal(1, empty.At(1_500, TwoPerSecond).Tokens, precision: 9);
        Assert.Equal(3, empty.At(10_000, TwoPerSecond).Tokens);
        Assert.Equal(0, empty.At(500, TwoPerSecond).Tokens);
    }

    [Fact]
    public void The_wait_is_rounded_up_to_the_millisecond_so_waiting_it_is_always_enough()
    {
        var bucket = new TokenBucket(0.3, 0);

        var wait = bucket.MillisecondsUntil(1, TwoPerSecond);

        Assert.Equal(350, wait);
        Assert.True(bucket.At(wait, TwoPerSecond).Tokens >= 1);
        Assert.Equal(0, bucket.MillisecondsUntil(0.3, TwoPerSecond));
    }

    [Fact]
    public void Taking_more_than_there_is_leaves_the_bucket_empty_not_negative() =>
        Assert.Equal(0, new TokenBucket(0.5, 0).Take(2).Tokens);
}
