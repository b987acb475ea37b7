using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record HerdOptions(int Members, int StateEvents, int Clients, string Fixture, bool SeedOnly);

/// <summary>The seeded room, kept in a file so that several server runs (both delivery modes) measure the same room.</summary>
public sealed record HerdFixture(User Admin, string RoomId, int Members, int StateEvents, User[] Clients);

/// <summary>
/// The 2017 incident: a room with many members and many state events gets one unusual state event, then N of its
/// members do an initial sync (full state, no filter) at the same moment. Measures the time until the last one has
/// its whole body, the bytes served, the server's peak RSS and how many state snapshots it built.
/// </summary>
public static class HerdScenario
{
    private const int ReadChunk = 64 * 1024;

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, HerdOptions options, CancellationToken ct)
    {
        RunResult? result = null;
        await Phases.RunAsync(async progress =>
        {
            var fixture = await Fixture.LoadOrSeedAsync(options.Fixture, () => SeedAsync(bench, options, progress, ct), ct);
            if (fixture.Clients.Length < options.Clients)
                throw new InvalidOperationException($"The fixture has {fixture.Clients.Length} clients; {options.Clients} were asked for.");
            if (!options.SeedOnly) result = await MeasureAsync(bench, fixture, options.Clients, progress, ct);
        });
        return result is null ? [] : [result];
    }

    private static async Task<HerdFixture> SeedAsync(BenchContext bench, HerdOptions options, Spectre.Console.ProgressContext progress, CancellationToken ct)
    {
        var api = bench.Api;
        var admin = await bench.RegisterAdminAsync(ct);
        var room = await api.CreateRoomAsync(admin, new JsonObject { ["preset"] = "public_chat", ["name"] = "herd" }, ct);
        var members = await progress.ForEachAsync($"register {options.Members} members", Enumerable.Range(0, options.Members).ToArray(), bench.SeedConcurrency,
            (i, _, token) => api.RegisterAsync(bench.Localpart("m", i), admin: false, token), ct);
        await progress.ForEachAsync("join the room", members, bench.SeedConcurrency, (member, _, token) => api.JoinAsync(member, room, token), ct);
        await progress.ForEachAsync($"{options.StateEvents} other state events", Enumerable.Range(0, options.StateEvents).ToArray(), bench.SeedConcurrency,
            (i, _, token) => api.PutStateAsync(admin, room, "org.example.bench.filler", $"key{i}",
                new JsonObject { ["index"] = i, ["description"] = $"filler state event {i} of the herd benchmark room" }, token), ct);
        return new HerdFixture(admin, room, options.Members, options.StateEvents, members[..Math.Min(options.Clients, members.Length)]);
    }

    private static async Task<RunResult> MeasureAsync(BenchContext bench, HerdFixture fixture, int clientCount, Spectre.Console.ProgressContext progress, CancellationToken ct)
    {
        var api = bench.Api;
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var clients = fixture.Clients[..clientCount];
        var serverCounters = bench.CountersOf(fixture.Admin);

        // Keep-alive connections for every client first: the herd measures the server's answers, not TCP handshakes.
        var warming = progress.AddTask($"open {clientCount} keep-alive connections", maxValue: 1);
        await Task.WhenAll(clients.Select(async _ => (await api.Http.GetAsync("/_matrix/client/versions", ct)).Dispose()));
        warming.Increment(1);

        var unusual = await api.PutStateAsync(fixture.Admin, fixture.RoomId, "org.example.bench.unusual", "",
            new JsonObject { ["nonce"] = Guid.NewGuid().ToString("N") }, ct);
        var needle = Encoding.UTF8.GetBytes(unusual);

        var window = await ResourceWindow.OpenAsync(bench.Server, serverCounters, ct);
        var herd = progress.AddTask($"{clientCount} initial syncs at once", maxValue: clientCount);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long start = 0;
        var syncs = clients.Select(client => Task.Run(async () =>
        {
            await gate.Task;
            var outcome = await InitialSyncAsync(api, client, needle, ct);
            herd.Increment(1);
            return outcome with { Milliseconds = LatencyRecorder.Milliseconds(start, outcome.CompletedAt) };
        }, ct)).ToArray();
        start = Stopwatch.GetTimestamp();
        gate.SetResult();
        var outcomes = await Task.WhenAll(syncs);
        var (cpuSeconds, generatorCpu, peakRss, counters) = await window.CloseAsync(ct);

        var samples = outcomes.Select(o => o.Milliseconds).Order().ToArray();
        var latency = LatencySummary.Of(samples);
        var firstByte = LatencySummary.Of(outcomes.Select(o => LatencyRecorder.Milliseconds(start, o.HeadersAt)).Order().ToArray());
        var allDone = Math.Round(samples.Length == 0 ? 0 : samples[^1], 1);
        var failed = outcomes.Count(o => o.Status != HttpStatusCode.OK);
        // 0 stands for a connection that failed without an HTTP answer.
        var failures = outcomes.Where(o => o.Status != HttpStatusCode.OK).GroupBy(o => ((int)o.Status).ToString(System.Globalization.CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Count());
        var withoutEvent = outcomes.Count(o => o.Status == HttpStatusCode.OK && !o.ContainsEvent);
        var bytes = outcomes.Sum(o => o.Bytes);
        var builds = counters.GetValueOrDefault(ServerCounters.SnapshotBuilds, double.NaN);
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["all_done_ms"] = allDone,
            ["sync_latency_ms"] = latency,
            ["time_to_response_headers_ms"] = firstByte,
            ["failed_syncs"] = failed,
            ["failed_syncs_by_status"] = failures,
            ["syncs_without_the_unusual_event"] = withoutEvent,
            ["bytes_served"] = bytes,
            ["mean_response_bytes"] = outcomes.Length == 0 ? 0 : bytes / outcomes.Length,
            ["server_cpu_seconds"] = cpuSeconds,
            ["generator_cpu_seconds"] = generatorCpu,
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["snapshot_builds"] = double.IsNaN(builds) ? null : builds,
            ["server_counters_delta"] = counters,
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("room", $"{fixture.Members:N0} members, {fixture.StateEvents:N0} other state events"),
            ("initial syncs at once", $"{clientCount:N0}"),
            ("all done", SvgCharts.FormatMs(allDone)),
            ("per sync p50 / p99 / max", $"{SvgCharts.FormatMs(latency.P50)} / {SvgCharts.FormatMs(latency.P99)} / {SvgCharts.FormatMs(latency.Max)}"),
            ("response headers p50 / p99 / max", $"{SvgCharts.FormatMs(firstByte.P50)} / {SvgCharts.FormatMs(firstByte.P99)} / {SvgCharts.FormatMs(firstByte.Max)}"),
            ("failed (by HTTP status) / without the new event", $"{failed}{(failed == 0 ? "" : $" ({string.Join(", ", failures.Select(f => $"{f.Key}: {f.Value}"))})")} / {withoutEvent}"),
            ("bytes served (mean per sync)", $"{bytes / 1048576.0:N1} MiB ({(outcomes.Length == 0 ? 0 : bytes / outcomes.Length / 1024.0):N0} KiB)"),
            ("server CPU s / peak RSS; generator CPU s", $"{ResultWriter.Format(cpuSeconds)} s / {ResultWriter.Format(BenchContext.Mib(peakRss))} MiB; {ResultWriter.Format(generatorCpu)} s"),
            ("snapshot builds", double.IsNaN(builds) ? "– (counter not published)" : $"{builds:N0}"),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["members"] = fixture.Members, ["state_events"] = fixture.StateEvents, ["clients"] = clientCount,
        };
        var svg = SvgCharts.Histogram($"herd: {clientCount:N0} initial syncs of a {fixture.Members:N0}-member room at once — time to whole body", samples);
        return new RunResult("herd", startedAt, parameters, measured, rows, svg);
    }

    private sealed record SyncOutcome(HttpStatusCode Status, long Bytes, bool ContainsEvent, long HeadersAt, long CompletedAt, double Milliseconds = 0);

    /// <summary>An initial sync without filter, its body counted and searched for the new event as it streams in.</summary>
    private static async Task<SyncOutcome> InitialSyncAsync(MatrixApi api, User client, byte[] needle, CancellationToken ct)
    {
        try
        {
            using var request = MatrixApi.SyncRequest(client, since: null, filter: null, timeoutMs: 0);
            using var response = await api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var headersAt = Stopwatch.GetTimestamp();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var (bytes, found) = await CountAndFindAsync(body, needle, ct);
            return new SyncOutcome(response.StatusCode, bytes, found, headersAt, Stopwatch.GetTimestamp());
        }
        catch (HttpRequestException)
        {
            var failedAt = Stopwatch.GetTimestamp();
            return new SyncOutcome(0, 0, false, failedAt, failedAt);
        }
    }

    private static async Task<(long Bytes, bool Found)> CountAndFindAsync(Stream body, byte[] needle, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadChunk + needle.Length);
        try
        {
            long total = 0;
            var found = false;
            var kept = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(kept, ReadChunk), ct)) > 0)
            {
                total += read;
                var window = buffer.AsSpan(0, kept + read);
                found |= window.IndexOf(needle) >= 0;
                // Keep the tail so that an id split between two reads is still found.
                kept = Math.Min(needle.Length - 1, window.Length);
                window[^kept..].CopyTo(buffer);
            }
            return (total, found);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
