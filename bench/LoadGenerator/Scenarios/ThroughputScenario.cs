using System.Diagnostics;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record ThroughputOptions(int Rooms, int Members, int SendersPerRoom, int WarmupSeconds, int DurationSeconds, int Runs, string? Fixture);

/// <summary>
/// Many small rooms; in each, some members send in a closed loop (the next message as soon as the previous one is
/// acknowledged, which the server does once the event is persisted). Counts the sends acknowledged in the measured
/// window and their latency. Several runs share one seeding.
/// </summary>
public static class ThroughputScenario
{
    private sealed record Sender(User User, string Room);

    /// <summary>The seeded rooms of an earlier run: each room's members, the creator first.</summary>
    public sealed record Seeded(User Admin, string[] Rooms, User[][] Members);

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, ThroughputOptions options, CancellationToken ct)
    {
        if (options.SendersPerRoom > options.Members) throw new ArgumentException("--senders-per-room cannot exceed --members.");
        var api = bench.Api;
        var results = new List<RunResult>();
        await Phases.RunAsync(async progress =>
        {
            var seeded = await Fixture.LoadOrSeedAsync(options.Fixture, () => SeedAsync(bench, options, progress, ct), ct);
            if (seeded.Rooms.Length != options.Rooms || seeded.Members.Any(m => m.Length != options.Members))
                throw new InvalidOperationException("The fixture was seeded with other --rooms or --members.");
            var senders = Enumerable.Range(0, options.Rooms).SelectMany(r => seeded.Members[r][..options.SendersPerRoom].Select(user => new Sender(user, seeded.Rooms[r]))).ToArray();
            for (var run = 0; run < options.Runs; run++)
                results.Add(await MeasureAsync(bench, options, bench.CountersOf(seeded.Admin), senders, progress, $"run {run + 1}/{options.Runs}", ct));
        });
        return results;
    }

    private static async Task<Seeded> SeedAsync(BenchContext bench, ThroughputOptions options, ProgressContext progress, CancellationToken ct)
    {
        var api = bench.Api;
        var admin = await bench.RegisterAdminAsync(ct);
        var users = await progress.ForEachAsync($"register {options.Rooms * options.Members} users", Enumerable.Range(0, options.Rooms * options.Members).ToArray(),
            bench.SeedConcurrency, (i, _, token) => api.RegisterAsync(bench.Localpart("u", i), admin: false, token), ct);
        var members = users.Chunk(options.Members).ToArray();
        var rooms = await progress.ForEachAsync($"create {options.Rooms} rooms", members, bench.SeedConcurrency,
            (room, r, token) => api.CreateRoomAsync(room[0], new JsonObject { ["preset"] = "public_chat", ["name"] = $"throughput {r}" }, token), ct);
        var joiners = members.SelectMany((room, r) => room.Skip(1).Select(user => new Sender(user, rooms[r]))).ToArray();
        await progress.ForEachAsync("join the rooms", joiners, bench.SeedConcurrency, (joiner, _, token) => api.JoinAsync(joiner.User, joiner.Room, token), ct);
        return new Seeded(admin, rooms, members);
    }

    private static async Task<RunResult> MeasureAsync(BenchContext bench, ThroughputOptions options, ServerCounters serverCounters, Sender[] senders,
        ProgressContext progress, string runName, CancellationToken ct)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var latency = new LatencyRecorder();
        long persisted = 0, errors = 0;
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + options.WarmupSeconds * Stopwatch.Frequency;
        var windowEnd = windowStart + options.DurationSeconds * Stopwatch.Frequency;
        ResourceWindow? window = null;
        var measuring = progress.AddTask($"{runName}: {senders.Length} senders, {options.WarmupSeconds} s warm-up, {options.DurationSeconds} s measured", maxValue: options.WarmupSeconds + options.DurationSeconds);
        var loops = senders.Select((sender, s) => Task.Run(async () =>
        {
            for (var n = 0; Stopwatch.GetTimestamp() < windowEnd; n++)
            {
                var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = $"throughput {s}.{n}" };
                var issued = Stopwatch.GetTimestamp();
                try
                {
                    await bench.Api.SendMessageAsync(sender.User, sender.Room, $"{bench.RunTag}-{runName}-{s}-{n}", content, ct);
                    var acknowledged = Stopwatch.GetTimestamp();
                    if (issued >= windowStart && acknowledged <= windowEnd)
                    {
                        latency.Record(LatencyRecorder.Milliseconds(issued, acknowledged));
                        Interlocked.Increment(ref persisted);
                    }
                }
                catch (Exception e) when (e is MatrixRequestFailed or HttpRequestException)
                {
                    if (issued >= windowStart) Interlocked.Increment(ref errors);
                }
            }
        }, ct)).ToArray();

        while (Stopwatch.GetTimestamp() < windowEnd)
        {
            await Task.Delay(250, ct);
            if (window is null && Stopwatch.GetTimestamp() >= windowStart) window = await ResourceWindow.OpenAsync(bench.Server, serverCounters, ct);
            measuring.Value = Stopwatch.GetElapsedTime(start).TotalSeconds;
            measuring.Description = $"{runName}: {senders.Length} senders, {Interlocked.Read(ref persisted):N0} persisted in the window";
        }
        // The window opens after the warm-up: a warm-up longer than the run leaves nothing measured.
        window ??= await ResourceWindow.OpenAsync(bench.Server, serverCounters, ct);
        var use = await window.CloseAsync(ct);
        var (cpuSeconds, generatorCpu, peakRss, counters) = use;
        await Task.WhenAll(loops);
        measuring.Value = measuring.MaxValue;

        var samples = latency.SortedSamples();
        var summary = LatencySummary.Of(samples);
        var perSecond = persisted / (double)options.DurationSeconds;
        var cpuPerEvent = cpuSeconds is null || persisted == 0 ? (double?)null : cpuSeconds.Value * 1000 / persisted;
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["persisted_events"] = persisted,
            ["persisted_events_per_s"] = Math.Round(perSecond, 1),
            ["send_errors"] = errors,
            ["send_latency_ms"] = summary,
            ["server_cpu_seconds"] = cpuSeconds,
            ["server_cpu_ms_per_event"] = cpuPerEvent is null ? null : Math.Round(cpuPerEvent.Value, 4),
            ["postgres_cpu_seconds"] = use.PostgresCpuSeconds,
            ["generator_cpu_seconds"] = generatorCpu,
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["server_counters_delta"] = counters,
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("rooms × members (senders per room)", $"{options.Rooms} × {options.Members} ({options.SendersPerRoom})"),
            ("persisted events/s", $"{perSecond:N0}"),
            ("send latency p50 / p99 / max", $"{SvgCharts.FormatMs(summary.P50)} / {SvgCharts.FormatMs(summary.P99)} / {SvgCharts.FormatMs(summary.Max)}"),
            ("send errors", $"{errors}"),
            ("server CPU s in the window / ms per event", $"{ResultWriter.Format(cpuSeconds)} / {ResultWriter.Format(cpuPerEvent)}"),
            ("PostgreSQL CPU s in the window", ResultWriter.Format(use.PostgresCpuSeconds)),
            ("generator CPU s in the window", ResultWriter.Format(generatorCpu)),
            ("server peak RSS", $"{ResultWriter.Format(BenchContext.Mib(peakRss))} MiB"),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["rooms"] = options.Rooms, ["members"] = options.Members, ["senders_per_room"] = options.SendersPerRoom,
            ["warmup_s"] = options.WarmupSeconds, ["duration_s"] = options.DurationSeconds, ["run"] = runName,
        };
        var svg = SvgCharts.Histogram($"throughput: {options.Rooms} rooms, {senders.Length} closed-loop senders ({runName}) — send latency", samples);
        return new RunResult("throughput", startedAt, parameters, measured, rows, svg);
    }
}
