using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using HomeServer.Grains.PushRules;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Pushers;

/// <summary>How long and how often a notification is offered to a push gateway that fails.</summary>
/// <param name="FirstRetryDelay">The wait after the first failure; it doubles after each further one, up to <paramref name="MaxRetryDelay"/>.</param>
/// <param name="GiveUpAfter">No retry starts later than this after the first attempt.</param>
public sealed record PushDeliveryOptions(TimeSpan FirstRetryDelay, TimeSpan MaxRetryDelay, TimeSpan GiveUpAfter, TimeSpan RequestTimeout)
{
    public static PushDeliveryOptions Default { get; } =
        new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(15));
}

/// <summary>
/// Sends committed notifications to the users' http pushers, off the room's commit path (docs/adr/0025-pushers.md):
/// the room grain only queues a <see cref="PushNotice"/>; one loop per silo reads the pushers of a batch of notices'
/// users at once and the unread count of those with one, and starts one delivery per pusher, which retries network errors, timeouts, 429 and 5xx with exponential back-off.
/// A gateway answering <c>rejected</c> with the pusher's pushkey gets the pusher deleted.
/// </summary>
public sealed class PushGatewayDispatcher : IDisposable
{
    private const int QueueCapacity = 10_000;
    private const int MaxBatch = 1_000;

    private readonly IHomeServerStore _store;
    private readonly ILogger<PushGatewayDispatcher> _logger;
    private readonly PushDeliveryOptions _options;
    private readonly HttpClient _http;
    private readonly Channel<PushNotice> _queue =
        Channel.CreateBounded<PushNotice>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private long _dropped;

    public PushGatewayDispatcher(IHomeServerStore store, ILogger<PushGatewayDispatcher> logger, PushDeliveryOptions? options = null)
    {
        _store = store;
        _logger = logger;
        _options = options ?? PushDeliveryOptions.Default;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
        {
            Timeout = _options.RequestTimeout,
        };
        _ = Task.Run(RunAsync);
    }

    /// <summary>Queues the notices; never waits. When the queue is full the notices are dropped (and logged, sparingly).</summary>
    public void Enqueue(IEnumerable<PushNotice> notices)
    {
        foreach (var notice in notices)
        {
            if (_queue.Writer.TryWrite(notice)) continue;
            var dropped = Interlocked.Increment(ref _dropped);
            if (dropped == 1 || dropped % 1_000 == 0)
                _logger.LogWarning("Push queue full; notification of {EventId} for {UserId} not pushed ({Dropped} dropped so far)", notice.EventId, notice.UserId, dropped);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<PushNotice>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stopping.Token))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var notice)) batch.Add(notice);
                try
                {
                    await DispatchAsync(batch);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning(e, "Pushing {Count} notifications (the first of {EventId}) failed", batch.Count, batch[0].EventId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// One store read finds the pushers of all the batch's users: a message to a room of 1,000 members queues 999
    /// notices, and most of those users have no pusher at all.
    /// </summary>
    private async Task DispatchAsync(IReadOnlyList<PushNotice> notices)
    {
        var userIds = notices.Select(notice => notice.UserId).Distinct(StringComparer.Ordinal).ToList();
        var pushers = (await _store.Pushers.GetPushersOfUsersAsync(userIds, _stopping.Token))
            .Where(p => p.Kind == PusherKinds.Http)
            .ToLookup(p => p.UserId, StringComparer.Ordinal);
        foreach (var notice in notices)
        {
            if (!pushers.Contains(notice.UserId)) continue;
            var unread = await CountUnreadAsync(notice.UserId);
            foreach (var pusher in pushers[notice.UserId])
            {
                if (UrlOf(pusher) is not { } url) continue;
                _ = DeliverAsync(pusher, url, PushGatewayBody.Write(notice, pusher, unread), notice.EventId);
            }
        }
    }

    private async Task<long> CountUnreadAsync(string userId)
    {
        var rooms = await _store.State.GetRoomsOfUserAsync(userId, ["join"], _stopping.Token);
        if (rooms.Count == 0) return 0;
        var counts = await _store.Push.GetUnreadCountsAsync(userId, rooms.Select(r => r.RoomId).ToList(), _stopping.Token);
        return counts.Sum(c => c.NotificationCount);
    }

    private async Task DeliverAsync(StoredPusher pusher, Uri url, byte[] body, string eventId)
    {
        try
        {
            await DeliverWithRetriesAsync(pusher, url, body, eventId);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Pushing {EventId} to {Url} failed", eventId, url);
        }
    }

    private async Task DeliverWithRetriesAsync(StoredPusher pusher, Uri url, byte[] body, string eventId)
    {
        var started = DateTimeOffset.UtcNow;
        var delay = _options.FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var outcome = await TryPostAsync(pusher, url, body);
            if (outcome == Outcome.Done) return;
            if (outcome == Outcome.GiveUp || DateTimeOffset.UtcNow - started + delay > _options.GiveUpAfter)
            {
                _logger.LogWarning("Gave up pushing {EventId} to {Url} after {Attempts} attempts", eventId, url, attempt);
                return;
            }
            try
            {
                await Task.Delay(delay, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }

    private enum Outcome { Done, Retry, GiveUp }

    private async Task<Outcome> TryPostAsync(StoredPusher pusher, Uri url, byte[] body)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.PostAsync(url, content, _stopping.Token);
            if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500) return Outcome.Retry;
            if (!response.IsSuccessStatusCode)
            {
                _logger.LogWarning("Push gateway {Url} refused a notification with {Status}", url, (int)response.StatusCode);
                return Outcome.GiveUp;
            }
            if (await IsRejectedAsync(response, pusher.Pushkey))
            {
                _logger.LogInformation("Push gateway {Url} rejected a pushkey of {UserId}; deleting the pusher", url, pusher.UserId);
                await _store.Pushers.DeletePusherAsync(pusher.UserId, pusher.AppId, pusher.Pushkey, _stopping.Token);
            }
            return Outcome.Done;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return Outcome.GiveUp;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return Outcome.Retry;
        }
    }

    private static async Task<bool> IsRejectedAsync(HttpResponseMessage response, string pushkey)
    {
        try
        {
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("rejected", out var rejected)
                && rejected.ValueKind == JsonValueKind.Array
                && rejected.EnumerateArray().Any(k => k.ValueKind == JsonValueKind.String && k.ValueEquals(pushkey));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Uri? UrlOf(StoredPusher pusher)
    {
        using var data = JsonDocument.Parse(pusher.Data);
        return data.RootElement.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
            && Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri)
            ? uri
            : null;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _http.Dispose();
    }
}
