using System.Diagnostics;
using System.Net;

namespace HomeServer.LoadGenerator.Http;

/// <summary>
/// One simulated client's /sync loop: an initial sync, then long-polls from each <c>next_batch</c>. It reports the
/// send ids of every response with the time the whole body had arrived.
/// </summary>
public sealed class SyncClient(MatrixApi api, User user, string? filter)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    public User User { get; } = user;

    public string? NextBatch { get; private set; }

    public long Errors => Interlocked.Read(ref _errors);

    private long _errors;

    public async Task InitialSyncAsync(CancellationToken ct)
    {
        using var request = MatrixApi.SyncRequest(User, null, filter, timeoutMs: 0);
        using var response = await api.Http.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new MatrixRequestFailed(response.StatusCode, $"initial /sync of {User.UserId} answered {(int)response.StatusCode}");
        NextBatch = SyncResponseScan.Scan(body, []) ?? throw new InvalidOperationException("/sync answered without next_batch");
    }

    /// <param name="onMessages">The send ids in one response and the timestamp its body was complete.</param>
    /// <param name="onError">The timestamp of a failed poll (the client waits briefly and polls again, as clients do).</param>
    public async Task PollAsync(int timeoutMs, Action<List<long>, long> onMessages, Action<long> onError, CancellationToken ct)
    {
        var sendIds = new List<long>();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var request = MatrixApi.SyncRequest(User, NextBatch, filter, timeoutMs);
                using var response = await api.Http.SendAsync(request, ct);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                var arrived = Stopwatch.GetTimestamp();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Fail(onError);
                    await Task.Delay(RetryDelay, ct);
                    continue;
                }
                sendIds.Clear();
                NextBatch = SyncResponseScan.Scan(body, sendIds) ?? NextBatch;
                if (sendIds.Count > 0) onMessages(sendIds, arrived);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                Fail(onError);
                try { await Task.Delay(RetryDelay, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private void Fail(Action<long> onError)
    {
        Interlocked.Increment(ref _errors);
        onError(Stopwatch.GetTimestamp());
    }
}
