using System.Diagnostics;

namespace HomeServer.GrainCalls;

public delegate ValueTask<int> GrainCall(IBenchGrain grain, int value);

/// <summary>Percentiles of one latency distribution, in nanoseconds.</summary>
public sealed record LatencySummary(long P50, long P99, long P999, long Max)
{
    public static LatencySummary Of(LatencyHistogram histogram) =>
        new(histogram.PercentileNs(50), histogram.PercentileNs(99), histogram.PercentileNs(99.9), histogram.MaxNs);
}

/// <summary>
/// One measured run: completed calls per second over the measured window, their latencies, and per call the
/// process's CPU time (all threads: callers, runtime, both silos), bytes allocated, thread-pool work items and
/// context switches; garbage collections (count, total pause) and the machine's scheduling hiccups meanwhile.
/// </summary>
public sealed record Measurement(double CallsPerSecond, LatencySummary Latency, long Errors, double CpuMicrosPerCall,
    double BytesPerCall, int Collections, double GcPauseMs, double WorkItemsPerCall, double ContextSwitchesPerCall, LatencySummary Hiccups,
    LatencySummary? PacerLag = null)
{
    public Measurement(long calls, double seconds, LatencySummary latency, long errors, ProcessUsage usage, LatencySummary hiccups,
        LatencySummary? pacerLag = null)
        : this(calls / seconds, latency, errors, usage.Cpu.TotalMicroseconds / Math.Max(1, calls),
            usage.Allocated / (double)Math.Max(1, calls), usage.Collections,
            usage.GcPause.TotalMilliseconds, usage.WorkItems / (double)Math.Max(1, calls), usage.ContextSwitches / (double)Math.Max(1, calls),
            hiccups, pacerLag)
    {
    }
}

public static class LoadDrivers
{
    /// <summary>
    /// Closed loop: <paramref name="callers"/> async loops each keep one call outstanding, cycling over the grains.
    /// An Orleans call always completes asynchronously (the grain runs on its own turn), so every loop yields to the
    /// others at each call.
    /// </summary>
    public static Measurement ClosedLoop(IBenchGrain[] grains, GrainCall call, int callers, TimeSpan warmup, TimeSpan duration)
    {
        var phase = new Phase();
        var histograms = new LatencyHistogram[callers];
        var errors = new long[callers];
        var loops = new Task[callers];
        for (var c = 0; c < callers; c++)
        {
            var caller = c;
            histograms[c] = new LatencyHistogram();
            loops[c] = Task.Run(() => CallerAsync(caller));
        }

        using var hiccups = new HiccupMeter();
        Thread.Sleep(warmup);
        var start = Stopwatch.GetTimestamp();
        var before = ProcessUsage.Now();
        phase.Value = Phase.Measuring;
        hiccups.Recording = true;
        Thread.Sleep(duration);
        phase.Value = Phase.Stopped;
        hiccups.Recording = false;
        var end = Stopwatch.GetTimestamp();
        var usage = ProcessUsage.Now().Since(before);
        Task.WaitAll(loops);

        var latency = new LatencyHistogram();
        foreach (var histogram in histograms) latency.Add(histogram);
        return new Measurement(latency.Count, Stopwatch.GetElapsedTime(start, end).TotalSeconds, LatencySummary.Of(latency), errors.Sum(),
            usage, hiccups.Summary());

        async Task CallerAsync(int caller)
        {
            var histogram = histograms[caller];
            var n = 0;
            while (phase.Value != Phase.Stopped)
            {
                var grain = grains[(caller + n) % grains.Length];
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    await call(grain, n).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    errors[caller]++;
                }
                var done = Stopwatch.GetTimestamp();
                if (phase.Value == Phase.Measuring) histogram.Record(LatencyHistogram.ElapsedNs(sent, done));
                n++;
            }
        }
    }

    /// <summary>
    /// Open loop at a fixed rate: call n is due at start + n / rate whatever happened to earlier calls, and its
    /// latency is measured from that due time, so a stall counts against every call it delayed (no coordinated
    /// omission). A dedicated thread paces the sends with sub-millisecond sleeps (<see cref="PreciseSleep"/>); how
    /// late it sent each call is reported as <see cref="Measurement.PacerLag"/>.
    /// </summary>
    public static Measurement OpenLoop(IBenchGrain[] grains, GrainCall call, double rate, TimeSpan warmup, TimeSpan duration)
    {
        var latency = new LatencyHistogram();
        var pacerLag = new LatencyHistogram();
        long errors = 0, outstanding = 0, completedInWindow = 0; // completedInWindow: calls due in the window that completed
        var interval = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        using var hiccups = new HiccupMeter();
        var before = ProcessUsage.Now();
        var pacer = new Thread(() =>
        {
            PreciseSleep.Prepare();
            for (long n = 0; ; n++)
            {
                var due = start + (long)(n * interval);
                if (due >= end) break;
                PreciseSleep.Until(due);
                if (due >= measureFrom)
                {
                    if (pacerLag.Count == 0)
                    {
                        hiccups.Recording = true;
                        before = ProcessUsage.Now();
                    }
                    pacerLag.Record(LatencyHistogram.ElapsedNs(due, Stopwatch.GetTimestamp()));
                }
                Interlocked.Increment(ref outstanding);
                _ = TrackAsync(call(grains[n % grains.Length], (int)n), due);
            }
        }) { IsBackground = true, Name = "pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        pacer.Join();
        hiccups.Recording = false;
        var usage = ProcessUsage.Now().Since(before);

        var drainDeadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (Interlocked.Read(ref outstanding) > 0 && Stopwatch.GetTimestamp() < drainDeadline) Thread.Sleep(1);
        var window = (end - measureFrom) / (double)Stopwatch.Frequency;
        var completed = Interlocked.Read(ref completedInWindow);
        return new Measurement(completed, window, LatencySummary.Of(latency), Interlocked.Read(ref errors) + Interlocked.Read(ref outstanding),
            usage, hiccups.Summary(), LatencySummary.Of(pacerLag));

        async Task TrackAsync(ValueTask<int> pending, long due)
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref errors);
            }
            if (due >= measureFrom)
            {
                latency.RecordConcurrent(LatencyHistogram.ElapsedNs(due, Stopwatch.GetTimestamp()));
                Interlocked.Increment(ref completedInWindow);
            }
            Interlocked.Decrement(ref outstanding);
        }
    }

    private sealed class Phase
    {
        public const int Warming = 0, Measuring = 1, Stopped = 2;
        private volatile int _value = Warming;

        public int Value
        {
            get => _value;
            set => _value = value;
        }
    }
}
