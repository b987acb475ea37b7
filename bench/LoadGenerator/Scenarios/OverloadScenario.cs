using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record OverloadOptions(int Senders, double? Rate, int ProbeSeconds, int ProbeConcurrency, double Factor, int DurationSeconds, int Runs, string? Fixture);

/// <summary>
/// Pushes the server past what it sustains and checks that it sheds instead of slowing down: first the sustainable send
/// rate (persisted sends/s of <c>--probe-concurrency</c> closed loops spread over the senders; or <c>--rate</c>), then
/// <c>--factor</c> times that rate open loop for <c>--duration</c> s (send <i>i</i> is due at start + <i>i</i>/rate
/// whatever happened to the others; its latency is counted from that due time). Every answer is sorted: 200 (admitted),
/// 429 (shed), 5xx (must be none), anything else.
/// </summary>
public static class OverloadScenario
{
    private const string ShedCounter = "homeserver.gateway.requests_shed";

    /// <summary>The seeded senders, each with a room of its own.</summary>
    public sealed record Seeded(User Admin, User[] Senders, string[] Rooms);

    private sealed class Outcomes
    {
        public readonly LatencyRecorder Admitted = new();
        public readonly LatencyRecorder Shed = new();
        public long ServerErrors;
        public long OtherStatus;
        public long ConnectionErrors;
        public long LastAdmittedAt;
    }

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, OverloadOptions options, CancellationToken ct)
    {
        var results = new List<RunResult>();
        await Phases.RunAsync(async progress =>
        {
            var seeded = await Fixture.LoadOrSeedAsync(options.Fixture, () => SeedAsync(bench, options, progress, ct), ct);
            if (seeded.Senders.Length != options.Senders) throw new InvalidOperationException("The fixture was seeded with other --senders.");
            for (var run = 0; run < options.Runs; run++)
            {
                var runName = $"run {run + 1}/{options.Runs}";
                var sustainable = options.Rate ?? await ProbeAsync(bench, options, seeded, progress, runName, ct);
                results.Add(await MeasureAsync(bench, options, seeded, sustainable, progress, runName, ct));
            }
        });
        return results;
    }

    private static async Task<Seeded> SeedAsync(BenchContext bench, OverloadOptions options, ProgressContext progress, CancellationToken ct)
    {
        var api = bench.Api;
        var admin = await bench.RegisterAdminAsync(ct);
        var senders = await progress.ForEachAsync($"register {options.Senders} senders", Enumerable.Range(0, options.Senders).ToArray(), bench.SeedConcurrency,
            (i, _, token) => api.RegisterAsync(bench.Localpart("s", i), admin: false, token), ct);
        var rooms = await progress.ForEachAsync($"create {options.Senders} rooms", senders, bench.SeedConcurrency,
            (sender, i, token) => api.CreateRoomAsync(sender, new JsonObject { ["preset"] = "private_chat", ["name"] = $"overload {i}" }, token), ct);
        return new Seeded(admin, senders, rooms);
    }

    /// <summary>
    /// Persisted sends per second of closed loops (the next send when the previous is acknowledged), enough of them to keep
    /// the server busy but under its in-flight bound: the rate the server sustains.
    /// </summary>
    private static async Task<double> ProbeAsync(BenchContext bench, OverloadOptions options, Seeded seeded, ProgressContext progress, string runName, CancellationToken ct)
    {
        var task = progress.AddTask($"{runName}: sustainable rate, {options.ProbeConcurrency} closed loops for {options.ProbeSeconds} s", maxValue: options.ProbeSeconds);
        var warmupEnd = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency;
        var end = warmupEnd + options.ProbeSeconds * Stopwatch.Frequency;
        long acknowledged = 0;
        var loops = Enumerable.Range(0, options.ProbeConcurrency).Select(loop => Task.Run(async () =>
        {
            var s = loop % seeded.Senders.Length;
            for (var n = 0; Stopwatch.GetTimestamp() < end; n++)
            {
                var status = await SendAsync(bench.Api.Http, seeded.Senders[s], seeded.Rooms[s], $"{bench.RunTag}-{runName}-probe-{loop}-{n}", ct);
                var now = Stopwatch.GetTimestamp();
                if (status == HttpStatusCode.OK && now >= warmupEnd && now <= end) Interlocked.Increment(ref acknowledged);
            }
        }, ct)).ToArray();
        while (Stopwatch.GetTimestamp() < end)
        {
            await Task.Delay(250, ct);
            task.Value = Math.Max(0, Stopwatch.GetElapsedTime(warmupEnd).TotalSeconds);
        }
        await Task.WhenAll(loops);
        task.Value = task.MaxValue;
        var rate = Interlocked.Read(ref acknowledged) / (double)options.ProbeSeconds;
        task.Description = $"{runName}: sustainable rate {rate:N0} sends/s";
        return Math.Max(1, rate);
    }

    private static async Task<RunResult> MeasureAsync(BenchContext bench, OverloadOptions options, Seeded seeded, double sustainable, ProgressContext progress, string runName, CancellationToken ct)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var rate = sustainable * options.Factor;
        var total = (int)Math.Ceiling(rate * options.DurationSeconds);
        var outcomes = new Outcomes();
        var counters = bench.CountersOf(seeded.Admin);
        var window = await ResourceWindow.OpenAsync(bench.Server, counters, ct);
        var task = progress.AddTask($"{runName}: {rate:N0} sends/s open loop ({options.Factor}× {sustainable:N0}) for {options.DurationSeconds} s", maxValue: total);

        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i / rate * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            var s = i % seeded.Senders.Length;
            sends.Add(SendAndSortAsync(bench.Api.Http, seeded.Senders[s], seeded.Rooms[s], $"{bench.RunTag}-{runName}-{i}", due, outcomes, ct));
            if (i % 256 == 0) task.Value = i;
        }
        await Task.WhenAll(sends);
        task.Value = task.MaxValue;
        var (cpuSeconds, generatorCpu, peakRss, counterDelta) = await window.CloseAsync(ct);

        var admitted = outcomes.Admitted.SortedSamples();
        var shed = outcomes.Shed.SortedSamples();
        var admittedSummary = LatencySummary.Of(admitted);
        var shedSummary = LatencySummary.Of(shed);
        // From the first due time to the last admitted answer: the rate at which the server completed sends.
        var admittedSeconds = outcomes.LastAdmittedAt == 0 ? options.DurationSeconds : Stopwatch.GetElapsedTime(start, outcomes.LastAdmittedAt).TotalSeconds;
        var throughput = admitted.Length / Math.Max(admittedSeconds, options.DurationSeconds);
        var shedByServer = counterDelta.GetValueOrDefault(ShedCounter);
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["sustainable_sends_per_s"] = Math.Round(sustainable, 1),
            ["offered_sends_per_s"] = Math.Round(rate, 1),
            ["offered_sends"] = total,
            ["admitted"] = admitted.Length,
            ["shed_429"] = shed.Length,
            ["server_errors_5xx"] = outcomes.ServerErrors,
            ["other_status"] = outcomes.OtherStatus,
            ["connection_errors"] = outcomes.ConnectionErrors,
            ["admitted_per_s"] = Math.Round(throughput, 1),
            ["admitted_latency_ms"] = admittedSummary,
            ["shed_latency_ms"] = shedSummary,
            ["server_shed_counter"] = shedByServer,
            ["server_cpu_seconds"] = cpuSeconds,
            ["generator_cpu_seconds"] = generatorCpu,
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["server_counters_delta"] = counterDelta,
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("sustainable rate (closed loop) → offered rate (open loop)", $"{sustainable:N0} → {rate:N0} sends/s ({options.Factor}×) for {options.DurationSeconds} s"),
            ("offered / admitted (200) / shed (429)", $"{total:N0} / {admitted.Length:N0} / {shed.Length:N0}"),
            ("5xx / other status / connection errors", $"{outcomes.ServerErrors} / {outcomes.OtherStatus} / {outcomes.ConnectionErrors}"),
            ("admitted throughput", $"{throughput:N0} sends/s"),
            ("admitted latency p50 / p99 / max", $"{SvgCharts.FormatMs(admittedSummary.P50)} / {SvgCharts.FormatMs(admittedSummary.P99)} / {SvgCharts.FormatMs(admittedSummary.Max)}"),
            ("shed latency p50 / p99", $"{SvgCharts.FormatMs(shedSummary.P50)} / {SvgCharts.FormatMs(shedSummary.P99)}"),
            ("server's shed counter", ResultWriter.Format(shedByServer)),
            ("server CPU s / generator CPU s", $"{ResultWriter.Format(cpuSeconds)} / {ResultWriter.Format(generatorCpu)}"),
            ("server peak RSS", $"{ResultWriter.Format(BenchContext.Mib(peakRss))} MiB"),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["senders"] = options.Senders, ["rate"] = options.Rate, ["probe_s"] = options.ProbeSeconds, ["probe_concurrency"] = options.ProbeConcurrency, ["factor"] = options.Factor,
            ["duration_s"] = options.DurationSeconds, ["run"] = runName,
        };
        var svg = SvgCharts.Histogram($"overload: {rate:N0} sends/s offered ({options.Factor}× sustainable, {runName}) — latency of admitted sends", admitted);
        return new RunResult("overload", startedAt, parameters, measured, rows, svg);
    }

    private static async Task SendAndSortAsync(HttpClient http, User sender, string roomId, string txnId, long due, Outcomes outcomes, CancellationToken ct)
    {
        await Task.Yield();
        HttpStatusCode? status;
        try
        {
            status = await SendAsync(http, sender, roomId, txnId, ct);
        }
        catch (HttpRequestException)
        {
            status = null;
        }
        var answered = Stopwatch.GetTimestamp();
        var latency = LatencyRecorder.Milliseconds(due, answered);
        switch (status)
        {
            case null:
                Interlocked.Increment(ref outcomes.ConnectionErrors);
                break;
            case HttpStatusCode.OK:
                outcomes.Admitted.Record(latency);
                InterlockedMax(ref outcomes.LastAdmittedAt, answered);
                break;
            case HttpStatusCode.TooManyRequests:
                outcomes.Shed.Record(latency);
                break;
            case >= HttpStatusCode.InternalServerError:
                Interlocked.Increment(ref outcomes.ServerErrors);
                break;
            default:
                Interlocked.Increment(ref outcomes.OtherStatus);
                break;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>One message; the status only (the body is read and dropped), so that refusals cost the generator no exception.</summary>
    private static async Task<HttpStatusCode> SendAsync(HttpClient http, User sender, string roomId, string txnId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{Uri.EscapeDataString(txnId)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sender.AccessToken);
        request.Content = new StringContent($$"""{"msgtype":"m.text","body":"overload {{txnId}}"}""", Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request, ct);
        await response.Content.CopyToAsync(Stream.Null, ct);
        return response.StatusCode;
    }
}
