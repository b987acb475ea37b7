namespace HomeServer.Grains.Federation.Outbound;

/// <summary>Exponential back-off with jitter, bounded: a destination that fails often is asked at most once per maximum delay.</summary>
public static class RetryBackoff
{
    /// <param name="failures">Failures in a row, from 1.</param>
    /// <returns>A delay between half and all of <c>initial × 2^(failures−1)</c>, capped at <paramref name="max"/>.</returns>
    public static TimeSpan Delay(int failures, TimeSpan initial, TimeSpan max, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var exponent = Math.Min(failures - 1, 30);
        var full = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        // Jitter spreads the retries of many senders that failed together (a destination that went down for everyone).
        return TimeSpan.FromMilliseconds(full / 2 + random.NextDouble() * full / 2);
    }
}
