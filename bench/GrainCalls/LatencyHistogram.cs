using System.Diagnostics;
using System.Numerics;

namespace HomeServer.GrainCalls;

/// <summary>
/// Log-linear latency histogram in nanoseconds: exact below 64 ns, then 32 buckets per power of two (at most ~3%
/// error). Recording is allocation-free; <see cref="RecordConcurrent"/> may be called from many threads.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int SubCount = 1 << SubBits;
    private static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly long[] _counts = new long[64 * SubCount];
    private long _count;
    private long _max;

    public long Count => _count;

    public static long ElapsedNs(long startTimestamp, long endTimestamp) => (long)((endTimestamp - startTimestamp) * NsPerTick);

    public void Record(long ns)
    {
        _counts[Index(ns)]++;
        _count++;
        if (ns > _max) _max = ns;
    }

    public void RecordConcurrent(long ns)
    {
        Interlocked.Increment(ref _counts[Index(ns)]);
        Interlocked.Increment(ref _count);
        var max = Volatile.Read(ref _max);
        while (ns > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, ns, max);
            if (seen == max) break;
            max = seen;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        _count += other._count;
        _max = Math.Max(_max, other._max);
    }

    public long MaxNs => _max;

    /// <summary>The latency below which <paramref name="percentile"/> % of the samples fall (bucket midpoint).</summary>
    public long PercentileNs(double percentile)
    {
        if (_count == 0) return 0;
        var rank = (long)Math.Ceiling(percentile / 100 * _count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(Midpoint(i), _max);
        }
        return _max;
    }

    private static int Index(long ns)
    {
        if (ns < 2 * SubCount) return (int)Math.Max(ns, 0);
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)ns);
        var sub = (int)(ns >> (exponent - SubBits)) & (SubCount - 1);
        return (exponent - SubBits + 1) * SubCount + sub;
    }

    private static long Midpoint(int index)
    {
        if (index < 2 * SubCount) return index;
        var exponent = index / SubCount + SubBits - 1;
        var width = 1L << (exponent - SubBits);
        return ((long)(SubCount + index % SubCount) << (exponent - SubBits)) + width / 2;
    }
}
