namespace HomeServer.LoadGenerator.Measurement;

/// <summary>
/// CPU seconds of a PostgreSQL server on this machine: the postmaster's own, those of its live children (backends,
/// background workers) and those of the children it has already reaped (cutime + cstime), so a backend that exits
/// inside a window still counts. Without a pid every value is null.
/// </summary>
public sealed class PostgresCpu(int? postmasterPid)
{
    // USER_HZ, as in ServerProcessSampler.
    private const double ClockTicksPerSecond = 100;

    public double? CpuSeconds()
    {
        if (postmasterPid is not { } postmaster) return null;
        var (_, own, reaped) = Stat(postmaster) ?? throw new InvalidOperationException($"No PostgreSQL postmaster with pid {postmaster}.");
        var total = own + reaped;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == postmaster) continue;
            if (Stat(pid) is { } child && child.ParentPid == postmaster) total += child.OwnTicks;
        }
        return total / ClockTicksPerSecond;
    }

    /// <summary>CPU seconds used since <paramref name="before"/> (a <see cref="CpuSeconds"/> reading), to the millisecond.</summary>
    public double? CpuSecondsSince(double? before) => before is null || CpuSeconds() is not { } now ? null : Math.Round(now - before.Value, 3);

    private static (int ParentPid, long OwnTicks, long ReapedChildrenTicks)? Stat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // The process exited meanwhile.
        }
        // After the command name's closing parenthesis: state, ppid, ..., utime (12th), stime, cutime, cstime.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1]), long.Parse(fields[11]) + long.Parse(fields[12]), long.Parse(fields[13]) + long.Parse(fields[14]));
    }
}
