using System.Diagnostics;
using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;

namespace HomeServer.LoadGenerator.Measurement;

/// <summary>
/// One sender at a fixed rate, open loop: message i is issued at start + i / rate whatever happened to the previous
/// ones, so a slow server cannot slow the load down (no coordinated omission). The content carries the send id.
/// </summary>
public sealed class OpenLoopSender(MatrixApi api, User sender, string roomId, string txnPrefix, double rate, DeliveryTracker tracker)
{
    private readonly Lock _lock = new();
    private readonly List<long> _errorTimestamps = [];
    private long _sent;

    public LatencyRecorder SendLatency { get; private set; } = new();

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Starts a new measured run: counts, latencies and errors from zero.</summary>
    public void Reset()
    {
        SendLatency = new LatencyRecorder();
        Interlocked.Exchange(ref _sent, 0);
        lock (_lock) _errorTimestamps.Clear();
    }

    public long[] ErrorTimestamps()
    {
        lock (_lock) return [.. _errorTimestamps];
    }

    /// <summary>
    /// Sends ids from <paramref name="firstId"/> until <paramref name="count"/> messages were issued or
    /// <paramref name="stop"/> is cancelled, then waits for the answers.
    /// </summary>
    public async Task RunAsync(int firstId, int count, Action<int>? onIssued, CancellationToken stop)
    {
        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task>();
        for (var id = firstId; id - firstId < count && id < tracker.Capacity && !stop.IsCancellationRequested; id++)
        {
            var due = TimeSpan.FromSeconds((id - firstId) / rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                try { await Task.Delay(due, stop); } catch (OperationCanceledException) { break; }
            }
            sends.Add(SendAsync(id));
            onIssued?.Invoke(id);
        }
        await Task.WhenAll(sends);
    }

    private async Task SendAsync(int sendId)
    {
        await Task.Yield();
        var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = $"load {sendId}", [SyncResponseScan.SendIdProperty] = sendId };
        var issued = Stopwatch.GetTimestamp();
        tracker.Issued(sendId, issued);
        try
        {
            await api.SendMessageAsync(sender, roomId, $"{txnPrefix}-{sendId}", content, CancellationToken.None);
            SendLatency.Record(LatencyRecorder.Milliseconds(issued, Stopwatch.GetTimestamp()));
            Interlocked.Increment(ref _sent);
        }
        catch (Exception e) when (e is MatrixRequestFailed or HttpRequestException)
        {
            lock (_lock) _errorTimestamps.Add(Stopwatch.GetTimestamp());
        }
    }
}
