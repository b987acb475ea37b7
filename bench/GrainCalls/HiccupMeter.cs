using System.Diagnostics;

namespace HomeServer.GrainCalls;

/// <summary>
/// Measures how late the machine wakes a sleeping thread (like jHiccup): a dedicated thread sleeps 1 ms in a loop
/// and records how much longer than that each sleep took. No call can have a lower tail latency than this, so
/// it tells the runtime's tail from CPU contention by other processes.
/// </summary>
public sealed class HiccupMeter : IDisposable
{
    private readonly LatencyHistogram _histogram = new();
    private readonly Thread _thread;
    private volatile bool _recording;
    private volatile bool _stopped;

    public HiccupMeter()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "hiccup meter" };
        _thread.Start();
    }

    /// <summary>Starts or stops recording (the thread runs all the time, so its own start-up is not measured).</summary>
    public bool Recording
    {
        set => _recording = value;
    }

    public LatencySummary Summary()
    {
        lock (_histogram) return LatencySummary.Of(_histogram);
    }

    private void Run()
    {
        const long expectedNs = 1_000_000;
        while (!_stopped)
        {
            var before = Stopwatch.GetTimestamp();
            Thread.Sleep(1);
            var late = LatencyHistogram.ElapsedNs(before, Stopwatch.GetTimestamp()) - expectedNs;
            if (_recording)
            {
                lock (_histogram) _histogram.Record(Math.Max(0, late));
            }
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _thread.Join();
    }
}
