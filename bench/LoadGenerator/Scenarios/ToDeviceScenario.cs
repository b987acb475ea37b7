using System.Diagnostics;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record ToDeviceOptions(
    int Devices, int DevicesPerUser, int Rotations, double Rate, int CiphertextBytes, int GraceSeconds, int PollTimeoutMs, int Runs);

/// <summary>
/// A megolm session rotation in a big encrypted room: <see cref="ToDeviceOptions.Devices"/> devices of the room's
/// members long-poll /sync; one sender rotates its session R times, each rotation being ONE PUT /sendToDevice with an
/// m.room.encrypted-like message for every device (as a client shares a new room key), then a room message. Reports
/// to-device messages per second end to end, the latency from the start of the send to the message in each device's
/// /sync, and missing or duplicate deliveries. Several runs share one seeding and one set of syncing devices.
/// </summary>
public static class ToDeviceScenario
{
    private const int SettleSeconds = 5;

    // What a client such as Element asks for; to_device is not filtered.
    private const string Filter = """{"room":{"state":{"lazy_load_members":true},"timeline":{"limit":50},"ephemeral":{"types":[]},"account_data":{"types":[]}},"presence":{"types":[]},"account_data":{"types":[]}}""";

    /// <summary>A device of a member: its user, the id the sender addresses and the access token it syncs with.</summary>
    public sealed record Device(string UserId, string DeviceId, User Session);

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, ToDeviceOptions options, CancellationToken ct)
    {
        if (options.Devices % options.DevicesPerUser != 0) throw new ArgumentException("--devices must be a multiple of --devices-per-user");
        var results = new List<RunResult>();
        await Phases.RunAsync(async progress =>
        {
            var api = bench.Api;
            var admin = await bench.RegisterAdminAsync(ct);
            var sender = await Phases.RetryAsync(() => api.RegisterAsync(bench.Localpart("sender", 0), admin: false, ct), ct);
            var room = await api.CreateRoomAsync(sender, new JsonObject
            {
                ["preset"] = "public_chat",
                ["name"] = "encrypted load",
                ["initial_state"] = new JsonArray(new JsonObject
                {
                    ["type"] = "m.room.encryption", ["state_key"] = "",
                    ["content"] = new JsonObject { ["algorithm"] = "m.megolm.v1.aes-sha2", ["rotation_period_ms"] = 604800000, ["rotation_period_msgs"] = 100 },
                }),
            }, ct);
            var users = await progress.ForEachAsync($"register {options.Devices / options.DevicesPerUser} members",
                Enumerable.Range(0, options.Devices / options.DevicesPerUser).ToArray(), bench.SeedConcurrency,
                (i, _, token) => api.RegisterAsync(bench.Localpart("m", i), admin: false, token), ct);
            await progress.ForEachAsync("join the room", users, bench.SeedConcurrency, (user, _, token) => api.JoinAsync(user, room, token), ct);
            // Each device logs in with a device id of its own, which the sender addresses.
            var devices = await progress.ForEachAsync($"log in {options.Devices} devices", Enumerable.Range(0, options.Devices).ToArray(), bench.SeedConcurrency,
                async (d, _, token) =>
                {
                    var user = users[d / options.DevicesPerUser];
                    var deviceId = $"BENCH{d % options.DevicesPerUser}";
                    return new Device(user.UserId, deviceId, await api.LoginAsync(user, "bench-" + bench.Localpart("m", d / options.DevicesPerUser), deviceId, token));
                }, ct);
            if (options.Runs == 0) return;

            var capacity = options.Rotations * options.Runs;
            var tracker = new DeliveryTracker(devices.Length, capacity);
            var clients = devices.Select(d => new SyncClient(api, d.Session, Filter)).ToArray();
            await progress.ForEachAsync("initial syncs", clients, bench.SeedConcurrency, (client, _, token) => client.InitialSyncAsync(token), ct);
            using var stopPolling = new CancellationTokenSource();
            var pollErrors = 0L;
            var polls = clients.Select((client, c) => Task.Run(() => client.PollAsync(options.PollTimeoutMs,
                (ids, arrived) => tracker.Received(c, ids, arrived),
                _ => Interlocked.Increment(ref pollErrors),
                stopPolling.Token))).ToArray();
            var settling = progress.AddTask($"long-polls parked (settling {SettleSeconds} s)", maxValue: SettleSeconds);
            for (var s = 0; s < SettleSeconds; s++) { await Task.Delay(1000, ct); settling.Increment(1); }

            var payload = Ciphertext(options.CiphertextBytes);
            for (var run = 0; run < options.Runs; run++)
            {
                results.Add(await MeasureAsync(bench, options, admin, sender, room, devices, tracker, payload, run * options.Rotations,
                    () => Interlocked.Read(ref pollErrors), progress, $"run {run + 1}/{options.Runs}", ct));
            }
            await stopPolling.CancelAsync();
            await Task.WhenAll(polls);
        });
        return results;
    }

    private static async Task<RunResult> MeasureAsync(
        BenchContext bench, ToDeviceOptions options, User admin, User sender, string roomId, Device[] devices, DeliveryTracker tracker,
        string payload, int firstId, Func<long> pollErrors, ProgressContext progress, string runName, CancellationToken ct)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var serverCounters = bench.CountersOf(admin);
        var window = await ResourceWindow.OpenAsync(bench.Server, serverCounters, ct);
        var duplicatesBefore = tracker.Duplicates;
        var sendLatency = new LatencyRecorder();
        var roomSendLatency = new LatencyRecorder();
        var sendErrors = 0L;
        var sent = 0L;
        var measuring = progress.AddTask($"{runName}: {options.Rotations} rotations at {options.Rate}/s to {devices.Length} devices", maxValue: options.Rotations);
        var bodyBytes = 0L;

        // Open loop, as the fanout sender: rotation i starts at start + i / rate whatever happened to the others.
        var start = Stopwatch.GetTimestamp();
        var rotations = new List<Task>();
        for (var i = 0; i < options.Rotations; i++)
        {
            var due = TimeSpan.FromSeconds(i / options.Rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero) await Task.Delay(due, ct);
            var id = firstId + i;
            var body = Rotation(devices, id, payload);
            bodyBytes = body.ToJsonString().Length;
            rotations.Add(Task.Run(async () =>
            {
                var issued = Stopwatch.GetTimestamp();
                tracker.Issued(id, issued);
                try
                {
                    await bench.Api.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/sendToDevice/m.room.encrypted/{bench.RunTag}-rot{id}", sender, body, CancellationToken.None);
                    sendLatency.Record(LatencyRecorder.Milliseconds(issued, Stopwatch.GetTimestamp()));
                    Interlocked.Increment(ref sent);
                    // The message the new session encrypts, as the client sends it right after sharing the key.
                    var roomIssued = Stopwatch.GetTimestamp();
                    await bench.Api.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.encrypted/{bench.RunTag}-msg{id}", sender,
                        new JsonObject { ["algorithm"] = "m.megolm.v1.aes-sha2", ["ciphertext"] = payload[..Math.Min(payload.Length, 400)], ["session_id"] = $"session{id}", ["sender_key"] = "bench", ["device_id"] = "SENDER" },
                        CancellationToken.None);
                    roomSendLatency.Record(LatencyRecorder.Milliseconds(roomIssued, Stopwatch.GetTimestamp()));
                }
                catch (Exception e) when (e is MatrixRequestFailed or HttpRequestException)
                {
                    Interlocked.Increment(ref sendErrors);
                }
                measuring.Increment(1);
            }, ct));
        }
        await Task.WhenAll(rotations);

        // A PUT that failed (e.g. timed out) may still have been stored and delivered: every rotation issued is expected.
        var issuedRotations = rotations.Count;
        var expected = (long)issuedRotations * devices.Length;
        await progress.WaitForDeliveriesAsync(runName, expected, () => tracker.CountBetween(firstId, firstId + options.Rotations), options.GraceSeconds, ct);
        var windowSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (cpuSeconds, generatorCpu, peakRss, counters) = await window.CloseAsync(ct);

        var deliveries = tracker.Deliveries(firstId, firstId + options.Rotations);
        var samples = deliveries.Select(d => d.Milliseconds).Order().ToArray();
        var latency = LatencySummary.Of(samples);
        // End to end: every delivered message over the time from the first send's start to the last arrival.
        var lastArrivalSeconds = deliveries.Length == 0 ? 0 : deliveries.Max(d => (tracker.IssuedAt(d.SendId) - start) / (double)Stopwatch.Frequency + d.Milliseconds / 1000);
        var perSecond = lastArrivalSeconds > 0 ? deliveries.Length / lastArrivalSeconds : 0;
        var duplicates = tracker.Duplicates - duplicatesBefore;
        var send = sendLatency.Summarise();
        var roomSend = roomSendLatency.Summarise();
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["rotations_issued"] = issuedRotations,
            ["rotations_acknowledged"] = Interlocked.Read(ref sent),
            ["send_errors"] = Interlocked.Read(ref sendErrors),
            ["send_body_bytes"] = bodyBytes,
            ["to_device_expected"] = expected,
            ["to_device_delivered"] = samples.Length,
            ["to_device_missing"] = expected - samples.Length,
            ["to_device_duplicates"] = duplicates,
            ["poll_errors_all_runs"] = pollErrors(),
            ["to_device_per_second"] = Math.Round(perSecond, 1),
            ["seconds_to_last_delivery"] = Math.Round(lastArrivalSeconds, 2),
            ["delivery_latency_ms"] = latency,
            ["send_to_device_latency_ms"] = send,
            ["room_send_latency_ms"] = roomSend,
            ["window_seconds"] = Math.Round(windowSeconds, 2),
            ["server_cpu_seconds"] = cpuSeconds,
            ["generator_cpu_seconds"] = generatorCpu,
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["server_counters_delta"] = counters,
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("devices (long-polling) / rotations / rate", $"{devices.Length:N0} / {options.Rotations} / {options.Rate}/s"),
            ("rotations issued / acknowledged / failed; body of one PUT /sendToDevice", $"{issuedRotations:N0} / {Interlocked.Read(ref sent):N0} / {Interlocked.Read(ref sendErrors)}; {bodyBytes / 1024.0:0.#} KiB"),
            ("to-device delivered / expected (missing); duplicates; poll errors so far", $"{samples.Length:N0} / {expected:N0} ({expected - samples.Length:N0}); {duplicates}; {pollErrors()}"),
            ("to-device messages/s end to end (first send to last arrival)", $"{perSecond:N0} ({lastArrivalSeconds:0.00} s)"),
            ("send-to-/sync latency p50 / p99 / max", $"{SvgCharts.FormatMs(latency.P50)} / {SvgCharts.FormatMs(latency.P99)} / {SvgCharts.FormatMs(latency.Max)}"),
            ("PUT /sendToDevice latency p50 / p99", $"{SvgCharts.FormatMs(send.P50)} / {SvgCharts.FormatMs(send.P99)}"),
            ("room message send latency p50 / p99", $"{SvgCharts.FormatMs(roomSend.P50)} / {SvgCharts.FormatMs(roomSend.P99)}"),
            ("server CPU s in the window; generator CPU s", $"{ResultWriter.Format(cpuSeconds)}; {ResultWriter.Format(generatorCpu)}"),
            ("server RSS peak (MiB)", ResultWriter.Format(BenchContext.Mib(peakRss))),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["devices"] = options.Devices, ["devices_per_user"] = options.DevicesPerUser, ["rotations"] = options.Rotations,
            ["rate_per_s"] = options.Rate, ["ciphertext_bytes"] = options.CiphertextBytes, ["grace_s"] = options.GraceSeconds,
            ["poll_timeout_ms"] = options.PollTimeoutMs, ["run"] = runName,
        };
        var svg = SvgCharts.Histogram($"todevice: {devices.Length:N0} devices, {options.Rotations} rotations at {options.Rate}/s ({runName}) — send-to-/sync latency", samples);
        return new RunResult("todevice", startedAt, parameters, measured, rows, svg);
    }

    /// <summary>
    /// One rotation's PUT /sendToDevice body: an olm-encrypted-like message per device (its ciphertext as long as a
    /// real m.room_key share is), each carrying the rotation's send id for the tracker.
    /// </summary>
    private static JsonObject Rotation(Device[] devices, int sendId, string payload)
    {
        var messages = new JsonObject();
        foreach (var device in devices)
        {
            if (messages[device.UserId] is not JsonObject perUser) messages[device.UserId] = perUser = new JsonObject();
            perUser[device.DeviceId] = new JsonObject
            {
                ["algorithm"] = "m.olm.v1.curve25519-aes-sha2",
                ["sender_key"] = "senderCurve25519KeyBase64xxxxxxxxxxxxxxxxxxx",
                ["ciphertext"] = new JsonObject { [$"{device.DeviceId}Curve25519KeyBase64xxxxxxxxxxxxxxx"] = new JsonObject { ["type"] = 0, ["body"] = payload } },
                [SyncResponseScan.SendIdProperty] = sendId,
            };
        }
        return new JsonObject { ["messages"] = messages };
    }

    /// <summary>Base64-looking text of the given length (olm ciphertext is unpadded base64).</summary>
    private static string Ciphertext(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return Convert.ToBase64String(bytes).TrimEnd('=')[..length];
    }
}
