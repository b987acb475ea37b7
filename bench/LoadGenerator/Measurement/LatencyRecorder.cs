using System.Diagnostics;

namespace HomeServer.LoadGenerator.Measurement;

/// <summary>Every latency sample of a run, in milliseconds; thread-safe. Runs are short enough to keep them all.</summary>
public sealed class LatencyRecorder
{
    private readonly Lock _lock = new();
    private readonly List<double> _samples = [];

    public static double Milliseconds(long fromTimestamp, long toTimestamp) => Stopwatch.GetElapsedTime(fromTimestamp, toTimestamp).TotalMilliseconds;

    public int Count
    {
        get { lock (_lock) return _samples.Count; }
    }

    public void Record(double milliseconds)
    {
        lock (_lock) _samples.Add(milliseconds);
    }

    public void RecordAll(IEnumerable<double> milliseconds)
    {
        lock (_lock) _samples.AddRange(milliseconds);
    }

    public double[] SortedSamples()
    {
        double[] copy;
        lock (_lock) copy = [.. _samples];
        Array.Sort(copy);
        return copy;
    }

    public LatencySummary Summarise() => LatencySummary.Of(SortedSamples());
}

/// <summary>Percentiles by nearest rank over all samples, in milliseconds.</summary>
public sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P99, double P999, double Max)
{
    public static LatencySummary Of(double[] sorted) => sorted.Length == 0
        ? new LatencySummary(0, 0, 0, 0, 0, 0, 0)
        : new LatencySummary(sorted.Length, Round(sorted.Average()), Percentile(sorted, 50), Percentile(sorted, 90),
            Percentile(sorted, 99), Percentile(sorted, 99.9), Round(sorted[^1]));

    public static double Percentile(double[] sorted, double percentile)
    {
        if (sorted.Length == 0) return 0;
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)]);
    }

    private static double Round(double value) => Math.Round(value, 2);
}
