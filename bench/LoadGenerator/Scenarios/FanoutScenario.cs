using System.Diagnostics;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record FanoutOptions(int Clients, double Rate, int DurationSeconds, int GraceSeconds, int PollTimeoutMs, int Runs, string? Fixture);

/// <summary>
/// One room, N members long-polling /sync, one sender at a fixed rate (open loop). Reports send-to-receive latency
/// over all deliveries, the server's CPU seconds per delivery and its memory per connected client. Several runs
/// share one seeding and one set of connected clients; each run sends new messages.
/// </summary>
public static class FanoutScenario
{
    private const int SettleSeconds = 5;

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, FanoutOptions options, CancellationToken ct)
    {
        var planned = (int)Math.Ceiling(options.Rate * options.DurationSeconds);
        var results = new List<RunResult>();
        await Phases.RunAsync(async progress =>
        {
            var room = await LongPollingRoom.SeedAsync(bench, progress, options.Clients, planned * options.Runs, options.Fixture, ct);
            if (options.Runs == 0) return;
            var rssBeforeClients = bench.Server.RssBytes();
            await room.ConnectAsync(progress, options.PollTimeoutMs, ct);
            var settling = progress.AddTask($"long-polls parked (settling {SettleSeconds} s)", maxValue: SettleSeconds);
            for (var s = 0; s < SettleSeconds; s++) { await Task.Delay(1000, ct); settling.Increment(1); }
            var rssConnected = bench.Server.RssBytes();
            var sender = room.Sender(options.Rate);
            for (var run = 0; run < options.Runs; run++)
                results.Add(await MeasureAsync(bench, options, room, sender, run * planned, planned, rssBeforeClients, rssConnected, progress, $"run {run + 1}/{options.Runs}", ct));
            await room.StopAsync();
        });
        return results;
    }

    private static async Task<RunResult> MeasureAsync(
        BenchContext bench, FanoutOptions options, LongPollingRoom room, OpenLoopSender sender, int firstId, int planned,
        long? rssBeforeClients, long? rssConnected, ProgressContext progress, string runName, CancellationToken ct)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var serverCounters = bench.CountersOf(room.Admin);
        sender.Reset();
        var window = await ResourceWindow.OpenAsync(bench.Server, serverCounters, ct);
        var baseline = room.Tracker.Count;
        var measuring = progress.AddTask($"{runName}: send {planned} at {options.Rate}/s to {options.Clients}", maxValue: planned);
        var start = Stopwatch.GetTimestamp();
        await sender.RunAsync(firstId, planned, id =>
        {
            measuring.Increment(1);
            measuring.Description = $"{runName}: sent {id - firstId + 1}/{planned}, deliveries {room.Tracker.Count - baseline:N0}";
        }, ct);

        var expected = sender.Sent * options.Clients;
        await progress.WaitForDeliveriesAsync(runName, expected, () => room.Tracker.Count - baseline, options.GraceSeconds, ct);
        var windowSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var use = await window.CloseAsync(ct);
        var (cpuSeconds, generatorCpu, peakRss, counters) = use;

        var samples = room.Tracker.Deliveries(firstId, firstId + planned).Select(d => d.Milliseconds).Order().ToArray();
        var latency = LatencySummary.Of(samples);
        var send = sender.SendLatency.Summarise();
        var sent = sender.Sent;
        var sendErrors = sender.ErrorTimestamps().Length;
        var expectedDeliveries = sent * options.Clients;
        var cpuPerDelivery = cpuSeconds is null || samples.Length == 0 ? (double?)null : cpuSeconds.Value / samples.Length;
        var perClient = rssConnected is null || rssBeforeClients is null ? (double?)null : (rssConnected.Value - rssBeforeClients.Value) / (double)options.Clients;
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["messages_sent"] = sent,
            ["send_errors"] = sendErrors,
            ["deliveries_expected"] = expectedDeliveries,
            ["deliveries"] = samples.Length,
            ["deliveries_missing"] = expectedDeliveries - samples.Length,
            ["duplicate_deliveries_all_runs"] = room.Tracker.Duplicates,
            ["poll_errors_all_runs"] = room.PollErrorTimestamps().Length,
            ["delivery_latency_ms"] = latency,
            ["send_latency_ms"] = send,
            ["window_seconds"] = Math.Round(windowSeconds, 2),
            ["server_cpu_seconds"] = cpuSeconds,
            ["server_cpu_ms_per_delivery"] = cpuPerDelivery is null ? null : Math.Round(cpuPerDelivery.Value * 1000, 4),
            ["postgres_cpu_seconds"] = use.PostgresCpuSeconds,
            ["generator_cpu_seconds"] = generatorCpu,
            ["server_rss_mib_before_clients"] = BenchContext.Mib(rssBeforeClients),
            ["server_rss_mib_connected"] = BenchContext.Mib(rssConnected),
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["server_kib_per_connected_client"] = perClient is null ? null : Math.Round(perClient.Value / 1024, 1),
            ["server_counters_delta"] = counters,
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("clients (long-polling)", $"{options.Clients:N0}"),
            ("messages sent / errors", $"{sent:N0} / {sendErrors}"),
            ("deliveries / expected (missing); duplicates, poll errors so far", $"{samples.Length:N0} / {expectedDeliveries:N0} ({expectedDeliveries - samples.Length:N0}); {room.Tracker.Duplicates}, {room.PollErrorTimestamps().Length}"),
            ("delivery latency p50 / p99 / max", $"{SvgCharts.FormatMs(latency.P50)} / {SvgCharts.FormatMs(latency.P99)} / {SvgCharts.FormatMs(latency.Max)}"),
            ("send latency p50 / p99", $"{SvgCharts.FormatMs(send.P50)} / {SvgCharts.FormatMs(send.P99)}"),
            ("server CPU s in the window / ms per delivery", $"{ResultWriter.Format(cpuSeconds)} / {ResultWriter.Format(cpuPerDelivery * 1000)}"),
            ("PostgreSQL CPU s in the window", ResultWriter.Format(use.PostgresCpuSeconds)),
            ("generator CPU s in the window", ResultWriter.Format(generatorCpu)),
            ("server RSS before clients / connected / peak (MiB)", $"{ResultWriter.Format(BenchContext.Mib(rssBeforeClients))} / {ResultWriter.Format(BenchContext.Mib(rssConnected))} / {ResultWriter.Format(BenchContext.Mib(peakRss))}"),
            ("server memory per connected client", perClient is null ? "–" : $"{perClient.Value / 1024:0.#} KiB"),
            ("events serialised / fan-out messages / batches", $"{Counter(counters, ServerCounters.EventsSerialised)} / {Counter(counters, ServerCounters.FanOutMessages)} / {Counter(counters, ServerCounters.FanOutBatches)}"),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["clients"] = options.Clients, ["rate_per_s"] = options.Rate, ["duration_s"] = options.DurationSeconds,
            ["grace_s"] = options.GraceSeconds, ["poll_timeout_ms"] = options.PollTimeoutMs, ["run"] = runName,
        };
        var svg = SvgCharts.Histogram($"fanout: {options.Clients:N0} clients, {options.Rate}/s for {options.DurationSeconds} s ({runName}) — send-to-receive latency", samples);
        return new RunResult("fanout", startedAt, parameters, measured, rows, svg);
    }

    public static string Counter(IReadOnlyDictionary<string, double> counters, string name) =>
        counters.TryGetValue(name, out var value) ? value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "–";
}
