using System.Diagnostics;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record FanoutOptions(int Clients, double Rate, int DurationSeconds, int GraceSeconds, int PollTimeoutMs);

/// <summary>
/// One room, N members long-polling /sync, one sender at a fixed rate (open loop: message i is sent at start + i/rate
/// whatever happened to the others). A delivery's latency is the time the receiving client had the whole /sync body
/// minus the time its send was issued.
/// </summary>
public static class FanoutScenario
{
    // What a client such as Element asks for: members loaded lazily, nothing the benchmark does not read.
    private const string Filter = """{"room":{"state":{"lazy_load_members":true},"timeline":{"limit":50},"ephemeral":{"types":[]},"account_data":{"types":[]}},"presence":{"types":[]},"account_data":{"types":[]}}""";

    public static async Task<RunResult> RunAsync(BenchContext bench, FanoutOptions options, CancellationToken ct)
    {
        var api = bench.Api;
        var planned = (int)Math.Ceiling(options.Rate * options.DurationSeconds);
        var issued = new long[planned];
        var delivery = new LatencyRecorder();
        var sendLatency = new LatencyRecorder();
        long duplicates = 0, sendErrors = 0, pollErrors = 0, sent = 0;
        long? rssBeforeClients = null, rssConnected = null, peakRss = null;
        double? cpuSeconds = null;
        double windowSeconds = 0;
        SortedDictionary<string, double> counters = [];

        await Phases.RunAsync(async progress =>
        {
            var admin = await bench.RegisterAdminAsync(ct);
            var serverCounters = bench.CountersOf(admin);
            var room = await api.CreateRoomAsync(admin, new JsonObject { ["preset"] = "public_chat", ["name"] = "fanout" }, ct);
            var indexes = Enumerable.Range(0, options.Clients).ToArray();
            var members = await progress.ForEachAsync($"register {options.Clients} members", indexes, bench.SeedConcurrency,
                (i, _, token) => api.RegisterAsync(bench.Localpart("m", i), admin: false, token), ct);
            await progress.ForEachAsync("join the room", members, bench.SeedConcurrency, (member, _, token) => api.JoinAsync(member, room, token), ct);

            rssBeforeClients = bench.Server.RssBytes();
            var clients = members.Select(member => new SyncClient(api, member, Filter)).ToArray();
            await progress.ForEachAsync("initial syncs", clients, bench.SeedConcurrency, (client, _, token) => client.InitialSyncAsync(token), ct);

            var seen = clients.Select(_ => new bool[planned]).ToArray();
            using var stopPolling = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var polls = clients.Select((client, c) => Task.Run(() => client.PollAsync(options.PollTimeoutMs, (ids, arrived) =>
            {
                var latencies = new List<double>(ids.Count);
                foreach (var id in ids)
                {
                    if (id < 0 || id >= planned) continue;
                    if (seen[c][id]) { Interlocked.Increment(ref duplicates); continue; }
                    seen[c][id] = true;
                    latencies.Add(LatencyRecorder.Milliseconds(Volatile.Read(ref issued[id]), arrived));
                }
                delivery.RecordAll(latencies);
            }, _ => Interlocked.Increment(ref pollErrors), stopPolling.Token))).ToArray();

            var connecting = progress.AddTask("long-polls parked (settling 5 s)", maxValue: 5);
            for (var s = 0; s < 5; s++) { await Task.Delay(1000, ct); connecting.Increment(1); }
            rssConnected = bench.Server.RssBytes();

            var before = await serverCounters.ReadAsync(ct);
            var cpuBefore = bench.Server.CpuSeconds();
            bench.Server.TakePeakRssBytes();
            var measuring = progress.AddTask($"send {planned} at {options.Rate}/s to {options.Clients}", maxValue: planned);
            var start = Stopwatch.GetTimestamp();
            var sends = new List<Task>(planned);
            for (var id = 0; id < planned; id++)
            {
                var due = TimeSpan.FromSeconds(id / options.Rate) - Stopwatch.GetElapsedTime(start);
                if (due > TimeSpan.Zero) await Task.Delay(due, ct);
                var sendId = id;
                sends.Add(Task.Run(async () =>
                {
                    var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = $"fanout {sendId}", [SyncResponseScan.SendIdProperty] = sendId };
                    var issuedAt = Stopwatch.GetTimestamp();
                    Volatile.Write(ref issued[sendId], issuedAt);
                    try
                    {
                        await api.SendMessageAsync(admin, room, $"{bench.RunTag}-{sendId}", content, ct);
                        sendLatency.Record(LatencyRecorder.Milliseconds(issuedAt, Stopwatch.GetTimestamp()));
                        Interlocked.Increment(ref sent);
                    }
                    catch (Exception e) when (e is MatrixRequestFailed or HttpRequestException)
                    {
                        Interlocked.Increment(ref sendErrors);
                    }
                }, ct));
                measuring.Increment(1);
                measuring.Description = $"sent {id + 1}/{planned}, deliveries {delivery.Count:N0}";
            }
            await Task.WhenAll(sends);

            var expected = Interlocked.Read(ref sent) * options.Clients;
            var waiting = progress.AddTask($"waiting for {expected:N0} deliveries (at most {options.GraceSeconds} s)", maxValue: options.GraceSeconds);
            var graceEnd = Stopwatch.GetTimestamp() + (long)(options.GraceSeconds * Stopwatch.Frequency);
            while (delivery.Count < expected && Stopwatch.GetTimestamp() < graceEnd)
            {
                await Task.Delay(100, ct);
                waiting.Value = options.GraceSeconds - Math.Max(0, (graceEnd - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
                waiting.Description = $"deliveries {delivery.Count:N0}/{expected:N0}";
            }
            waiting.Value = waiting.MaxValue;
            windowSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            cpuSeconds = BenchContext.Minus(bench.Server.CpuSeconds(), cpuBefore);
            peakRss = bench.Server.TakePeakRssBytes();
            counters = ServerCounters.Delta(before, await serverCounters.ReadAsync(ct));
            await stopPolling.CancelAsync();
            await Task.WhenAll(polls);
        });

        var samples = delivery.SortedSamples();
        var latency = LatencySummary.Of(samples);
        var send = sendLatency.Summarise();
        var expectedDeliveries = sent * options.Clients;
        var cpuPerEvent = cpuSeconds is null || samples.Length == 0 ? (double?)null : cpuSeconds.Value / samples.Length;
        var perClient = rssConnected is null || rssBeforeClients is null ? (double?)null : (rssConnected.Value - rssBeforeClients.Value) / (double)options.Clients;
        var measured = new Dictionary<string, object?>
        {
            ["messages_sent"] = sent,
            ["send_errors"] = sendErrors,
            ["deliveries_expected"] = expectedDeliveries,
            ["deliveries"] = samples.Length,
            ["deliveries_missing"] = expectedDeliveries - samples.Length,
            ["duplicate_deliveries"] = duplicates,
            ["poll_errors"] = pollErrors,
            ["delivery_latency_ms"] = latency,
            ["send_latency_ms"] = send,
            ["window_seconds"] = Math.Round(windowSeconds, 2),
            ["server_cpu_seconds"] = cpuSeconds,
            ["server_cpu_ms_per_delivery"] = cpuPerEvent is null ? null : Math.Round(cpuPerEvent.Value * 1000, 4),
            ["server_rss_mib_before_clients"] = BenchContext.Mib(rssBeforeClients),
            ["server_rss_mib_connected"] = BenchContext.Mib(rssConnected),
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["server_kib_per_connected_client"] = perClient is null ? null : Math.Round(perClient.Value / 1024, 1),
            ["server_counters_delta"] = counters,
        };
        var rows = new List<(string, string)>
        {
            ("clients (long-polling)", $"{options.Clients:N0}"),
            ("messages sent / errors", $"{sent:N0} / {sendErrors}"),
            ("deliveries / expected (missing, duplicates)", $"{samples.Length:N0} / {expectedDeliveries:N0} ({expectedDeliveries - samples.Length:N0}, {duplicates})"),
            ("delivery latency p50 / p99 / max", $"{SvgCharts.FormatMs(latency.P50)} / {SvgCharts.FormatMs(latency.P99)} / {SvgCharts.FormatMs(latency.Max)}"),
            ("send latency p50 / p99", $"{SvgCharts.FormatMs(send.P50)} / {SvgCharts.FormatMs(send.P99)}"),
            ("poll errors", $"{pollErrors}"),
            ("server CPU s (window) / ms per delivery", $"{ResultWriter.Format(cpuSeconds)} / {ResultWriter.Format(cpuPerEvent is null ? null : cpuPerEvent * 1000)}"),
            ("server RSS before clients / connected / peak (MiB)", $"{ResultWriter.Format(BenchContext.Mib(rssBeforeClients))} / {ResultWriter.Format(BenchContext.Mib(rssConnected))} / {ResultWriter.Format(BenchContext.Mib(peakRss))}"),
            ("server memory per connected client", perClient is null ? "–" : $"{perClient.Value / 1024:0.#} KiB"),
            ("events serialised / fan-out messages / batches", $"{Counter(counters, ServerCounters.EventsSerialised)} / {Counter(counters, ServerCounters.FanOutMessages)} / {Counter(counters, ServerCounters.FanOutBatches)}"),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["clients"] = options.Clients, ["rate_per_s"] = options.Rate, ["duration_s"] = options.DurationSeconds,
            ["grace_s"] = options.GraceSeconds, ["poll_timeout_ms"] = options.PollTimeoutMs,
        };
        var svg = SvgCharts.Histogram($"fanout: {options.Clients:N0} clients, {options.Rate}/s for {options.DurationSeconds} s — send-to-receive latency", samples);
        return new RunResult("fanout", parameters, measured, rows, svg);
    }

    public static string Counter(IReadOnlyDictionary<string, double> counters, string name) =>
        counters.TryGetValue(name, out var value) ? value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "–";
}
