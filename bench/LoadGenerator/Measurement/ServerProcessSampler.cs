namespace HomeServer.LoadGenerator.Measurement;

/// <summary>
/// The server's CPU seconds (user + system, /proc/&lt;pid&gt;/stat) and resident memory (VmRSS, /proc/&lt;pid&gt;/status),
/// with a background sampler that keeps the peak RSS. Without a pid (server on another machine) every value is null.
/// </summary>
public sealed class ServerProcessSampler : IAsyncDisposable
{
    // USER_HZ: the unit of utime and stime in /proc/<pid>/stat; 100 on every Linux architecture .NET runs on.
    private const double ClockTicksPerSecond = 100;

    private readonly int? _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _peakRssBytes;

    public ServerProcessSampler(int? pid, TimeSpan interval, int? postgresPid = null)
    {
        _pid = pid;
        Postgres = new PostgresCpu(postgresPid);
        _sampling = pid is null ? Task.CompletedTask : SampleAsync(interval);
    }

    public bool Enabled => _pid is not null;

    /// <summary>The server's PostgreSQL, when on this machine and its postmaster's pid was given.</summary>
    public PostgresCpu Postgres { get; }

    public double? CpuSeconds()
    {
        if (_pid is null) return null;
        var stat = File.ReadAllText($"/proc/{_pid}/stat");
        // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the state field (field 3).
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / ClockTicksPerSecond;
    }

    /// <summary>CPU seconds used since <paramref name="before"/> (a <see cref="CpuSeconds"/> reading), to the millisecond.</summary>
    public double? CpuSecondsSince(double? before) => before is null || CpuSeconds() is not { } now ? null : Math.Round(now - before.Value, 3);

    public long? RssBytes()
    {
        if (_pid is null) return null;
        foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        }
        return null;
    }

    /// <summary>The highest RSS seen since the last call (or the start), and starts a new window.</summary>
    public long? TakePeakRssBytes()
    {
        if (_pid is null) return null;
        var current = RssBytes() ?? 0;
        return Math.Max(current, Interlocked.Exchange(ref _peakRssBytes, current));
    }

    private async Task SampleAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var rss = RssBytes() ?? 0;
                long seen;
                while (rss > (seen = Interlocked.Read(ref _peakRssBytes)) && Interlocked.CompareExchange(ref _peakRssBytes, rss, seen) != seen) { }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // The server exited.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
