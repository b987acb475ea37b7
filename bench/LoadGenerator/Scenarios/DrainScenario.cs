using System.Diagnostics;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record DrainOptions(int Clients, double Rate, string DrainCommand, int Silos, int SettleSeconds);

/// <summary>
/// A rolling upgrade under load: members of one room long-poll through the cluster's front door while one sender
/// sends at a fixed rate, and the drain command drains and restarts each silo in turn. Reports the latency of the
/// deliveries per second of send time, with each drain's interval, and every failed request.
/// </summary>
public static class DrainScenario
{
    private const int GraceSeconds = 15;
    private const int PollTimeoutMs = 30000;

    // Room for an hour of sending; the run stops long before.
    private const int MaxSeconds = 3600;

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, DrainOptions options, CancellationToken ct)
    {
        var drains = new List<SvgCharts.Interval>();
        var drainExitCodes = new List<int>();
        LongPollingRoom? room = null;
        OpenLoopSender? sender = null;
        long start = 0;
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();

        await Phases.RunAsync(async progress =>
        {
            room = await LongPollingRoom.SeedAsync(bench, progress, options.Clients, (int)(options.Rate * MaxSeconds), fixture: null, ct);
            await room.ConnectAsync(progress, PollTimeoutMs, ct);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);

            using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(ct);
            start = Stopwatch.GetTimestamp();
            sender = room.Sender(options.Rate);
            var sending = sender.RunAsync(0, int.MaxValue, null, stopSending.Token);
            var rolling = progress.AddTask($"drain {options.Silos} silos one by one", maxValue: options.Silos);
            for (var n = 1; n <= options.Silos; n++)
            {
                await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), ct);
                rolling.Description = $"draining silo {n} of {options.Silos}, deliveries {room.Tracker.Count:N0}";
                var from = Stopwatch.GetElapsedTime(start).TotalSeconds;
                drainExitCodes.Add(await RunDrainCommandAsync(options.DrainCommand.Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture)), ct));
                drains.Add(new SvgCharts.Interval(from, Stopwatch.GetElapsedTime(start).TotalSeconds, $"silo {n}"));
                rolling.Increment(1);
            }
            await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), ct);
            await stopSending.CancelAsync();
            await sending;

            var expected = sender.Sent * options.Clients;
            var graceEnd = Stopwatch.GetTimestamp() + GraceSeconds * Stopwatch.Frequency;
            while (room.Tracker.Count < expected && Stopwatch.GetTimestamp() < graceEnd) await Task.Delay(100, ct);
            await room.StopAsync();
        });

        var deliveries = room!.Tracker.Deliveries();
        var samples = deliveries.Select(d => d.Milliseconds).Order().ToArray();
        var latency = LatencySummary.Of(samples);
        var sendErrors = sender!.ErrorTimestamps();
        var pollErrors = room.PollErrorTimestamps();
        double SecondOf(long timestamp) => Math.Floor(Stopwatch.GetElapsedTime(start, timestamp).TotalSeconds);
        var errorsPerSecond = sendErrors.Concat(pollErrors).GroupBy(SecondOf).ToDictionary(g => g.Key, g => (long)g.Count());
        var timeline = deliveries
            .GroupBy(d => SecondOf(room.Tracker.IssuedAt(d.SendId)))
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var sorted = g.Select(d => d.Milliseconds).Order().ToArray();
                return new SvgCharts.TimelinePoint(g.Key, LatencySummary.Percentile(sorted, 50), LatencySummary.Percentile(sorted, 99), sorted[^1], errorsPerSecond.GetValueOrDefault(g.Key));
            })
            .ToArray();
        var expectedDeliveries = sender.Sent * options.Clients;
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["messages_sent"] = sender.Sent,
            ["send_errors"] = sendErrors.Length,
            ["poll_errors"] = pollErrors.Length,
            ["deliveries_expected"] = expectedDeliveries,
            ["deliveries"] = deliveries.Length,
            ["deliveries_missing"] = expectedDeliveries - deliveries.Length,
            ["duplicate_deliveries"] = room.Tracker.Duplicates,
            ["delivery_latency_ms"] = latency,
            ["send_latency_ms"] = sender.SendLatency.Summarise(),
            ["drains"] = drains.Select((d, i) => new { silo = i + 1, from_s = Math.Round(d.FromSecond, 1), to_s = Math.Round(d.ToSecond, 1), exit_code = drainExitCodes[i] }).ToArray(),
            ["timeline"] = timeline.Select(p => new { second = p.Second, p50_ms = p.P50, p99_ms = p.P99, max_ms = p.Max, errors = p.Errors }).ToArray(),
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("clients (long-polling) / send rate", $"{options.Clients:N0} / {options.Rate}/s"),
            ("messages sent / send errors", $"{sender.Sent:N0} / {sendErrors.Length}"),
            ("deliveries / expected (missing, duplicates)", $"{deliveries.Length:N0} / {expectedDeliveries:N0} ({expectedDeliveries - deliveries.Length:N0}, {room.Tracker.Duplicates})"),
            ("poll errors", $"{pollErrors.Length}"),
            ("delivery latency p50 / p99 / max (whole run)", $"{SvgCharts.FormatMs(latency.P50)} / {SvgCharts.FormatMs(latency.P99)} / {SvgCharts.FormatMs(latency.Max)}"),
        };
        foreach (var (drain, i) in drains.Select((d, i) => (d, i)))
        {
            var during = timeline.Where(p => p.Second >= Math.Floor(drain.FromSecond) && p.Second <= drain.ToSecond).ToArray();
            rows.Add(($"silo {i + 1} drain ({drain.FromSecond:0}–{drain.ToSecond:0} s, exit {drainExitCodes[i]}): worst per-second p99 / max",
                during.Length == 0 ? "–" : $"{SvgCharts.FormatMs(during.Max(p => p.P99))} / {SvgCharts.FormatMs(during.Max(p => p.Max))}"));
        }
        var parameters = new Dictionary<string, object?>
        {
            ["clients"] = options.Clients, ["rate_per_s"] = options.Rate, ["silos"] = options.Silos, ["settle_s"] = options.SettleSeconds,
            ["drain_command"] = options.DrainCommand,
        };
        var svg = SvgCharts.Timeline($"drain: {options.Clients} clients, {options.Rate}/s, each silo drained and restarted — delivery latency per second", timeline, drains);
        return [new RunResult("drain", startedAt, parameters, measured, rows, svg)];
    }

    private static async Task<int> RunDrainCommandAsync(string command, CancellationToken ct)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        // Drained: the drain script's own progress lines would break the progress display.
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        await Task.WhenAll(stdout, stderr);
        return process.ExitCode;
    }
}
