namespace HomeServer.GrainCalls;

/// <summary>
/// The process's CPU time, allocations, garbage collections, thread-pool work items and context switches (Linux)
/// during a measured window; per call, the last two count the thread hand-offs a call costs.
/// </summary>
public sealed record ProcessUsage(TimeSpan Cpu, long Allocated, int Collections, TimeSpan GcPause, long WorkItems, long ContextSwitches)
{
    public static ProcessUsage Now() =>
        new(Environment.CpuUsage.TotalTime, GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.GetTotalPauseDuration(),
            ThreadPool.CompletedWorkItemCount, ContextSwitchesOfAllThreads());

    public ProcessUsage Since(ProcessUsage start) =>
        new(Cpu - start.Cpu, Allocated - start.Allocated, Collections - start.Collections, GcPause - start.GcPause,
            WorkItems - start.WorkItems, Math.Max(0, ContextSwitches - start.ContextSwitches));

    /// <summary>
    /// Voluntary and involuntary switches summed over /proc/self/task/*/status (threads that exit take theirs
    /// with them, so this is approximate); 0 where there is no /proc.
    /// </summary>
    private static long ContextSwitchesOfAllThreads()
    {
        if (!Directory.Exists("/proc/self/task")) return 0;
        long total = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:") || line.StartsWith("nonvoluntary_ctxt_switches:"))
                        total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim());
                }
            }
            catch (IOException)
            {
                // The thread exited meanwhile.
            }
        }
        return total;
    }
}
