using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HomeServer.FederationBench;

// Two servers of this project federating over HTTPS on loopback (a throwaway CA), each with its own SQLite database: a
// sender S whose user created the rooms and a receiver R whose user joined every one of them over federation. Then, per
// run, R is stopped while S keeps sending, and started again:
//   catchup — S's user sends --rate events/s spread over the rooms for --outage-seconds; measured: events queued for R,
//             the time from R being ready to S's acknowledged position for R reaching S's newest event, the transaction
//             requests S made, the PDUs they carried, S's and R's memory.
//   inbound — S's catch-up threshold is raised above the backlog so that S sends R everything in order, 50 PDUs per transaction, one
//             transaction at a time, as fast as R answers; S's user queues --events events while R is down; measured:
//             PDUs per second R answered (and stored) during the drain.
var options = Options.Parse(args);
var work = options.Work;
Directory.CreateDirectory(work);
var ca = ThrowawayCa.Create(Path.Combine(work, "ca"));
var secret = "bench-" + Guid.NewGuid().ToString("N");
string[] common =
[
    $"--Kestrel:Certificates:Default:Path={ca.CertificatePath}", $"--Kestrel:Certificates:Default:KeyPath={ca.KeyPath}",
    $"--Federation:TrustedCaCertificates:0={ca.CaPath}", "--Federation:AllowPrivateAddresses=true",
    "--PasswordHashing:Iterations=1", "--Registration:Mode=open", $"--Registration:SharedSecret={secret}",
    "--Logging:LogLevel:Default=Warning", "--InputLimits:MaxConnectionsPerIp=0", .. options.ServerArguments,
];
// A short longest back-off, so that the time to drain measures the sending, not S waiting out its retry delay.
List<string> senderArguments = [.. common, "--Federation:Outbound:InitialRetryDelay=00:00:01", "--Federation:Outbound:MaxRetryDelay=00:00:05"];
// inbound: the highest threshold the server takes, above the events queued, so that S sends everything in order.
const int HighestThreshold = 9_999;
if (options.Scenario == "inbound" && options.Events > HighestThreshold) throw new ArgumentException($"--events at most {HighestThreshold} for inbound");
var threshold = options.Scenario == "inbound" ? HighestThreshold : options.CatchUpThreshold;
if (threshold is { } t) senderArguments.Add($"--Federation:Outbound:CatchUpThreshold={t}");

using var http = MatrixClient.CreateHttp();
await using var sender = new ServerProcess(options.SiloDll, FreePort(), Path.Combine(work, "s"), Path.Combine(work, "s.log"), senderArguments);
await using var receiver = new ServerProcess(options.SiloDll, FreePort(), Path.Combine(work, "r"), Path.Combine(work, "r.log"), common);
await sender.StartAsync(http);
await receiver.StartAsync(http);
Log($"S {sender.Name} (pid {sender.Pid}), R {receiver.Name} (pid {receiver.Pid}); work in {work}");

var alice = await MatrixClient.RegisterAdminAsync(http, sender.BaseUrl, "alice", secret);
var bob = await MatrixClient.RegisterAdminAsync(http, receiver.BaseUrl, "bob", secret);
var clock = Stopwatch.StartNew();
var rooms = await ForEachAsync(Enumerable.Range(0, options.Rooms), 8, _ => alice.CreateRoomAsync());
Log($"{rooms.Count} rooms created on S in {clock.Elapsed.TotalSeconds:F0} s");
clock.Restart();
await ForEachAsync(rooms, 4, async room => { await bob.JoinAsync(room); return 0; });
Log($"R's user joined them over federation in {clock.Elapsed.TotalSeconds:F0} s");
await ForEachAsync(rooms, 8, async room => { await alice.SendTextAsync(room, "warm-up"); return 0; });
await WaitDrainedAsync(Databases.MaxGlobalPosition(sender.DatabasePath), TimeSpan.FromMinutes(10));
Log("warm-up delivered to R");

var results = new List<RunResult>();
for (var run = 1; run <= options.Runs; run++)
{
    var result = await RunAsync(run);
    results.Add(result);
    Log(result.ToString());
}
Console.WriteLine(Report(results));
return 0;

async Task<RunResult> RunAsync(int run)
{
    var countersBefore = await alice.CountersAsync();
    var receiverEventsBefore = Databases.EventCount(receiver.DatabasePath);
    var senderRssBefore = sender.RssMiB();
    await receiver.StopAsync();
    Log($"run {run}: R stopped");

    var outage = Stopwatch.StartNew();
    var senderRssPeakOutage = senderRssBefore;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            senderRssPeakOutage = Math.Max(senderRssPeakOutage, sender.RssMiB());
            try { await Task.Delay(1000, sampling.Token); } catch (OperationCanceledException) { }
        }
    });
    int sent;
    if (options.Scenario == "catchup")
    {
        // Open loop: event i is due at i / rate seconds, whatever the server's answers do.
        var total = (int)(options.Rate * options.OutageSeconds);
        using var inFlight = new SemaphoreSlim(32);
        var sends = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / options.Rate);
            if (outage.Elapsed < due) await Task.Delay(due - outage.Elapsed);
            await inFlight.WaitAsync();
            var room = rooms[(i + run) % rooms.Count];
            sends.Add(Task.Run(async () => { try { await alice.SendTextAsync(room, $"run {run} event {i}"); } finally { inFlight.Release(); } }));
        }
        await Task.WhenAll(sends);
        sent = total;
        var rest = TimeSpan.FromSeconds(options.OutageSeconds) - outage.Elapsed;
        if (rest > TimeSpan.Zero) await Task.Delay(rest);
    }
    else
    {
        await ForEachAsync(Enumerable.Range(0, options.Events), 16, async i => { await alice.SendTextAsync(rooms[i % rooms.Count], $"run {run} event {i}"); return 0; });
        sent = options.Events;
    }
    var outageSeconds = outage.Elapsed.TotalSeconds;
    var sendRate = sent / outageSeconds;
    await sampling.CancelAsync();
    await sampler;
    var queued = Databases.OwedEvents(sender.DatabasePath, receiver.Name);
    var senderRssEndOfOutage = sender.RssMiB();
    var target = Databases.MaxGlobalPosition(sender.DatabasePath);
    Log($"run {run}: {sent} events sent in {outageSeconds:F0} s while R was down; {queued} queued for R; starting R");

    await receiver.StartAsync(http);
    var drained = await WaitDrainedAsync(target, TimeSpan.FromMinutes(30));
    await Task.Delay(TimeSpan.FromSeconds(2));
    var countersAfter = await alice.CountersAsync();
    double Delta(string name) => countersAfter.GetValueOrDefault(name) - countersBefore.GetValueOrDefault(name);
    return new RunResult(run, sent, outageSeconds, sendRate, queued, drained.Seconds,
        Delta("homeserver.federation.outbound.transaction_attempts"), Delta("homeserver.federation.outbound.transactions_answered"),
        Delta("homeserver.federation.outbound.pdus_answered"), Delta("homeserver.federation.outbound.catch_ups"),
        Databases.EventCount(receiver.DatabasePath) - receiverEventsBefore,
        senderRssBefore, senderRssPeakOutage, senderRssEndOfOutage, drained.SenderRssPeak, drained.ReceiverRssPeak);
}

// From R being ready until S's acknowledged position for R reaches the target (every event owed up to it answered).
async Task<(double Seconds, double SenderRssPeak, double ReceiverRssPeak)> WaitDrainedAsync(long target, TimeSpan patience)
{
    var clock = Stopwatch.StartNew();
    double senderPeak = 0, receiverPeak = 0;
    while (Databases.AckedPosition(sender.DatabasePath, receiver.Name) < target)
    {
        senderPeak = Math.Max(senderPeak, sender.RssMiB());
        receiverPeak = Math.Max(receiverPeak, receiver.RssMiB());
        if (clock.Elapsed > patience) throw new TimeoutException($"S had not delivered up to {target} to R after {patience}");
        await Task.Delay(100);
    }
    return (clock.Elapsed.TotalSeconds, Math.Max(senderPeak, sender.RssMiB()), Math.Max(receiverPeak, receiver.RssMiB()));
}

string Report(List<RunResult> runs)
{
    var text = new StringBuilder();
    text.AppendLine(CultureInfo.InvariantCulture, $"scenario {options.Scenario}: {rooms.Count} rooms, {options.Runs} runs, catch-up threshold {threshold?.ToString(CultureInfo.InvariantCulture) ?? "default"}");
    text.AppendLine("| run | events sent | outage s | events queued | drain s | tx attempts | tx answered | PDUs sent | catch-ups | R events stored | PDUs/s | S RSS before / peak outage / end outage / peak drain MiB | R RSS peak drain MiB |");
    text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    foreach (var r in runs) text.AppendLine(Row(r.Run.ToString(CultureInfo.InvariantCulture), r));
    var median = new RunResult(0, Median(runs, r => r.Sent), Median(runs, r => r.OutageSeconds), Median(runs, r => r.SendRate), (long)Median(runs, r => r.Queued),
        Median(runs, r => r.DrainSeconds), Median(runs, r => r.Attempts), Median(runs, r => r.Answered), Median(runs, r => r.Pdus), Median(runs, r => r.CatchUps),
        (long)Median(runs, r => r.ReceiverStored), Median(runs, r => r.SenderRssBefore), Median(runs, r => r.SenderRssPeakOutage),
        Median(runs, r => r.SenderRssEndOfOutage), Median(runs, r => r.SenderRssPeakDrain), Median(runs, r => r.ReceiverRssPeakDrain));
    text.AppendLine(Row("median", median));
    return text.ToString();

    static string Row(string name, RunResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {r.Sent:F0} | {r.OutageSeconds:F0} | {r.Queued} | {r.DrainSeconds:F1} | {r.Attempts:F0} | {r.Answered:F0} | {r.Pdus:F0} | {r.CatchUps:F0} | {r.ReceiverStored} | {r.Pdus / r.DrainSeconds:F0} | {r.SenderRssBefore:F0} / {r.SenderRssPeakOutage:F0} / {r.SenderRssEndOfOutage:F0} / {r.SenderRssPeakDrain:F0} | {r.ReceiverRssPeakDrain:F0} |");
}

static double Median(List<RunResult> runs, Func<RunResult, double> value)
{
    var sorted = runs.Select(value).Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static async Task<List<T>> ForEachAsync<TItem, T>(IEnumerable<TItem> items, int parallel, Func<TItem, Task<T>> action)
{
    var list = items.ToList();
    var results = new T[list.Count];
    await Parallel.ForEachAsync(Enumerable.Range(0, list.Count), new ParallelOptions { MaxDegreeOfParallelism = parallel },
        async (i, _) => results[i] = await action(list[i]));
    return [.. results];
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static void Log(string message) => Console.Error.WriteLine($"federation-bench {DateTime.UtcNow:HH:mm:ss}: {message}");

internal sealed record RunResult(
    int Run, double Sent, double OutageSeconds, double SendRate, long Queued, double DrainSeconds, double Attempts, double Answered, double Pdus,
    double CatchUps, long ReceiverStored, double SenderRssBefore, double SenderRssPeakOutage, double SenderRssEndOfOutage, double SenderRssPeakDrain,
    double ReceiverRssPeakDrain);

internal sealed record Options(
    string Scenario, string SiloDll, string Work, int Rooms, int Runs, double OutageSeconds, double Rate, int Events, int? CatchUpThreshold,
    IReadOnlyList<string> ServerArguments)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var split = Array.IndexOf(args, "--");
        var own = split < 0 ? args : args[..split];
        for (var i = 0; i + 1 < own.Length; i += 2) values[own[i].TrimStart('-')] = own[i + 1];
        string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);
        var scenario = Get("scenario", "");
        if (scenario is not ("catchup" or "inbound")) throw new ArgumentException("--scenario catchup|inbound");
        return new Options(scenario, Get("silo-dll", ""), Get("work", Path.Combine(Path.GetTempPath(), "federation-bench-" + Guid.NewGuid().ToString("N")[..8])),
            int.Parse(Get("rooms", "1000"), CultureInfo.InvariantCulture), int.Parse(Get("runs", "3"), CultureInfo.InvariantCulture),
            double.Parse(Get("outage-seconds", "120"), CultureInfo.InvariantCulture), double.Parse(Get("rate", "20"), CultureInfo.InvariantCulture),
            int.Parse(Get("events", "6000"), CultureInfo.InvariantCulture),
            values.TryGetValue("catch-up-threshold", out var threshold) ? int.Parse(threshold, CultureInfo.InvariantCulture) : null,
            split < 0 ? [] : args[(split + 1)..]);
    }
}
