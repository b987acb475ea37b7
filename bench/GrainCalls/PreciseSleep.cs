using System.Diagnostics;
using System.Runtime.InteropServices;

namespace HomeServer.GrainCalls;

/// <summary>
/// Sub-millisecond sleeps for the open-loop pacer. Thread.Sleep has millisecond resolution, and spinning would
/// take one of the machine's two cores from the runtime under test; on Linux the pacer thread lowers its timer
/// slack to 1 ns and sleeps with usleep, which wakes within a few tens of microseconds.
/// </summary>
internal static class PreciseSleep
{
    private const int PrSetTimerSlack = 29;

    /// <summary>Call once on the thread that will sleep.</summary>
    public static void Prepare()
    {
        if (OperatingSystem.IsLinux()) _ = prctl(PrSetTimerSlack, 1, 0, 0, 0);
    }

    /// <summary>Returns at <paramref name="timestamp"/> (a Stopwatch timestamp) or a little after.</summary>
    public static void Until(long timestamp)
    {
        long now;
        while ((now = Stopwatch.GetTimestamp()) < timestamp)
        {
            var micros = (timestamp - now) * 1_000_000 / Stopwatch.Frequency;
            if (OperatingSystem.IsLinux()) _ = usleep((uint)Math.Clamp(micros, 1, 1_000_000));
            else if (micros > 1000) Thread.Sleep(1);
            else Thread.Yield();
        }
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int usleep(uint microseconds);

    [DllImport("libc", SetLastError = false)]
    private static extern int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
