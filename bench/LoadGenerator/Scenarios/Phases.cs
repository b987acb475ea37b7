using System.Diagnostics;
using System.Net;
using HomeServer.LoadGenerator.Http;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

/// <summary>The progress display: one bar per phase (seeding steps, the measured window).</summary>
public static class Phases
{
    private const int SeedAttempts = 5;

    public static Task RunAsync(Func<ProgressContext, Task> body) => AnsiConsole.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .StartAsync(body);

    /// <summary>
    /// Runs <paramref name="action"/> for every item with at most <paramref name="concurrency"/> at once, retrying
    /// overload and connection errors: seeding is set-up, not measurement, so it only has to finish.
    /// </summary>
    public static async Task<TResult[]> ForEachAsync<T, TResult>(
        this ProgressContext progress, string description, IReadOnlyList<T> items, int concurrency,
        Func<T, int, CancellationToken, Task<TResult>> action, CancellationToken ct)
    {
        var task = progress.AddTask(description, maxValue: Math.Max(1, items.Count));
        var results = new TResult[items.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                results[i] = await RetryAsync(() => action(items[i], i, token), token);
                task.Increment(1);
            });
        task.Value = task.MaxValue;
        task.StopTask();
        return results;
    }

    /// <summary>Waits until <paramref name="delivered"/> reaches <paramref name="expected"/> or the grace period ends, counting it down.</summary>
    public static async Task WaitForDeliveriesAsync(
        this ProgressContext progress, string runName, long expected, Func<long> delivered, int graceSeconds, CancellationToken ct)
    {
        var waiting = progress.AddTask($"{runName}: waiting for {expected:N0} deliveries (at most {graceSeconds} s)", maxValue: graceSeconds);
        var graceEnd = Stopwatch.GetTimestamp() + graceSeconds * Stopwatch.Frequency;
        while (delivered() < expected && Stopwatch.GetTimestamp() < graceEnd)
        {
            await Task.Delay(50, ct);
            waiting.Value = graceSeconds - Math.Max(0, (graceEnd - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
        }
        waiting.Value = waiting.MaxValue;
    }

    public static Task ForEachAsync<T>(
        this ProgressContext progress, string description, IReadOnlyList<T> items, int concurrency,
        Func<T, int, CancellationToken, Task> action, CancellationToken ct) =>
        progress.ForEachAsync(description, items, concurrency, async (item, i, token) =>
        {
            await action(item, i, token);
            return true;
        }, ct);

    public static async Task<T> RetryAsync<T>(Func<Task<T>> action, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception e) when (attempt < SeedAttempts && IsTransient(e) && !ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct);
            }
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        HttpRequestException => true,
        MatrixRequestFailed failed => failed.Status is HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError,
        _ => false,
    };
}
