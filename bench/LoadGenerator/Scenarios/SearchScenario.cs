using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record SearchOptions(int Messages, int Rooms, int Vocabulary, int Queries, int Runs, string? Fixture);

/// <summary>
/// One user's rooms hold <c>--messages</c> messages of eight words each, drawn from a vocabulary of
/// <c>--vocabulary</c> made-up words with a Zipf-like frequency (the first words are in thousands of messages, the last
/// in a handful). The user then searches, one request at a time, alternating rank and recent order and common and rare
/// words; the latency of each <c>POST /search</c> (limit 10, no context) is recorded.
/// </summary>
public static class SearchScenario
{
    public sealed record Seeded(User Admin, User Searcher, string[] Rooms, int Messages, int Vocabulary);

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, SearchOptions options, CancellationToken ct)
    {
        var results = new List<RunResult>();
        await Phases.RunAsync(async progress =>
        {
            var seeded = await Fixture.LoadOrSeedAsync(options.Fixture, () => SeedAsync(bench, options, progress, ct), ct);
            if (seeded.Messages != options.Messages || seeded.Rooms.Length != options.Rooms || seeded.Vocabulary != options.Vocabulary)
                throw new InvalidOperationException("The fixture was seeded with other --messages, --rooms or --vocabulary.");
            for (var run = 0; run < options.Runs; run++)
                results.Add(await MeasureAsync(bench, options, seeded, progress, $"run {run + 1}/{options.Runs}", ct));
        });
        return results;
    }

    /// <summary>A pronounceable made-up word per index, the same on every run.</summary>
    private static string Word(int index)
    {
        string[] syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "do", "gu", "sha", "bri", "ton", "mel", "far"];
        var word = new StringBuilder();
        var n = index + syllables.Length;
        while (n > 0)
        {
            word.Append(syllables[n % syllables.Length]);
            n /= syllables.Length;
        }
        return word.ToString();
    }

    /// <summary>A word index drawn with probability proportional to 1/(rank+1).</summary>
    private static int ZipfIndex(Random random, double[] cumulative)
    {
        var index = Array.BinarySearch(cumulative, random.NextDouble() * cumulative[^1]);
        return index >= 0 ? index : Math.Min(~index, cumulative.Length - 1);
    }

    private static double[] Cumulative(int vocabulary)
    {
        var cumulative = new double[vocabulary];
        var sum = 0.0;
        for (var i = 0; i < vocabulary; i++) cumulative[i] = sum += 1.0 / (i + 1);
        return cumulative;
    }

    private static async Task<Seeded> SeedAsync(BenchContext bench, SearchOptions options, ProgressContext progress, CancellationToken ct)
    {
        var api = bench.Api;
        var admin = await bench.RegisterAdminAsync(ct);
        var searcher = await api.RegisterAsync(bench.Localpart("searcher", 0), admin: false, ct);
        var rooms = await progress.ForEachAsync($"create {options.Rooms} rooms", Enumerable.Range(0, options.Rooms).ToArray(), bench.SeedConcurrency,
            (r, _, token) => api.CreateRoomAsync(searcher, new JsonObject { ["preset"] = "private_chat", ["name"] = $"search {r}" }, token), ct);
        var cumulative = Cumulative(options.Vocabulary);
        await progress.ForEachAsync($"send {options.Messages:N0} messages", Enumerable.Range(0, options.Messages).ToArray(), bench.SeedConcurrency,
            async (i, _, token) =>
            {
                var random = new Random(i);
                var body = string.Join(' ', Enumerable.Range(0, 8).Select(_ => Word(ZipfIndex(random, cumulative))));
                var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = body };
                return await api.SendMessageAsync(searcher, rooms[i % rooms.Length], $"{bench.RunTag}-seed-{i}", content, token);
            }, ct);
        return new Seeded(admin, searcher, rooms, options.Messages, options.Vocabulary);
    }

    private static async Task<RunResult> MeasureAsync(BenchContext bench, SearchOptions options, Seeded seeded, ProgressContext progress, string runName, CancellationToken ct)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var byKind = new Dictionary<string, LatencyRecorder>();
        var all = new LatencyRecorder();
        var random = new Random(runName.GetHashCode(StringComparison.Ordinal));
        long errors = 0, results = 0;
        var cpuBefore = bench.Server.CpuSeconds();
        bench.Server.TakePeakRssBytes();
        var measuring = progress.AddTask($"{runName}: {options.Queries} searches", maxValue: options.Queries);
        for (var q = 0; q < options.Queries; q++)
        {
            var order = q % 2 == 0 ? "rank" : "recent";
            var common = q / 2 % 2 == 0;
            // Common: one of the 20 most frequent words; rare: one from the least frequent half.
            var word = Word(common ? random.Next(20) : options.Vocabulary / 2 + random.Next(options.Vocabulary / 2));
            var body = new JsonObject
            {
                ["search_categories"] = new JsonObject
                {
                    ["room_events"] = new JsonObject { ["search_term"] = word, ["order_by"] = order, ["filter"] = new JsonObject { ["limit"] = 10 } },
                },
            };
            var issued = Stopwatch.GetTimestamp();
            try
            {
                var response = await bench.Api.SendAsync(HttpMethod.Post, "/_matrix/client/v3/search", seeded.Searcher, body, ct);
                var elapsed = LatencyRecorder.Milliseconds(issued, Stopwatch.GetTimestamp());
                all.Record(elapsed);
                var kind = $"{order}, {(common ? "common" : "rare")} word";
                if (!byKind.TryGetValue(kind, out var recorder)) byKind[kind] = recorder = new LatencyRecorder();
                recorder.Record(elapsed);
                results += response.GetProperty("search_categories").GetProperty("room_events").GetProperty("results").GetArrayLength();
            }
            catch (Exception e) when (e is MatrixRequestFailed or HttpRequestException)
            {
                errors++;
            }
            measuring.Value = q + 1;
        }
        var cpuSeconds = bench.Server.CpuSecondsSince(cpuBefore);
        var peakRss = bench.Server.TakePeakRssBytes();

        var samples = all.SortedSamples();
        var summary = LatencySummary.Of(samples);
        var kinds = byKind.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(k => k.Key, k => k.Value.Summarise());
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["search_latency_ms"] = summary,
            ["search_latency_ms_by_kind"] = kinds,
            ["results_returned"] = results,
            ["errors"] = errors,
            ["server_cpu_seconds"] = cpuSeconds,
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("messages × rooms (vocabulary)", $"{options.Messages:N0} × {options.Rooms} ({options.Vocabulary:N0} words)"),
            ("searches (errors)", $"{all.Count} ({errors})"),
            ("search latency p50 / p99 / max", $"{SvgCharts.FormatMs(summary.P50)} / {SvgCharts.FormatMs(summary.P99)} / {SvgCharts.FormatMs(summary.Max)}"),
        };
        foreach (var (kind, kindSummary) in kinds)
            rows.Add(($"  {kind}: p50 / p99 / max", $"{SvgCharts.FormatMs(kindSummary.P50)} / {SvgCharts.FormatMs(kindSummary.P99)} / {SvgCharts.FormatMs(kindSummary.Max)}"));
        rows.Add(("server CPU s / peak RSS", $"{ResultWriter.Format(cpuSeconds)} / {ResultWriter.Format(BenchContext.Mib(peakRss))} MiB"));
        var parameters = new Dictionary<string, object?>
        {
            ["messages"] = options.Messages, ["rooms"] = options.Rooms, ["vocabulary"] = options.Vocabulary, ["queries"] = options.Queries, ["run"] = runName,
        };
        var svg = SvgCharts.Histogram($"search: {options.Messages:N0} messages in {options.Rooms} rooms ({runName}) — POST /search latency", samples);
        return new RunResult("search", startedAt, parameters, measured, rows, svg);
    }
}
