using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Matrix clients as an app runs them: every user long-polls <c>/sync</c> continuously, one member of each room
/// sends messages with transaction ids, and a failed request is retried as a client would (the same
/// <c>since</c>, the same transaction id). Every failed attempt is recorded, with how long it took, so tests
/// can require none or judge them; every message's send and arrival times give send-to-receive latencies.
/// </summary>
internal sealed class ChatLoad
{
    private const string Filter = """{"room":{"timeline":{"limit":100}}}""";

    private readonly HttpClient _http;
    private readonly Member[] _members;
    private readonly string[] _rooms;
    private readonly int _membersPerRoom;
    private readonly TimeSpan _sendInterval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, TimeSpan> _issuedAt = new();
    private readonly List<(TimeSpan Start, TimeSpan End)> _disturbances = [];
    private readonly ConcurrentQueue<FailedRequest> _failures = new();
    private readonly CancellationTokenSource _stopSending = new();
    private readonly CancellationTokenSource _stopSyncing = new();
    private Task[] _senders = [];
    private Task[] _syncers = [];
    private int _limited;
    private int _resyncs;
    private int _abandoned;
    private long _slowestSendTicks;
    private TimeSpan _giveUpAt = TimeSpan.MaxValue;

    private ChatLoad(HttpClient http, Member[] members, string[] rooms, int membersPerRoom, TimeSpan sendInterval)
    {
        _http = http;
        _members = members;
        _rooms = rooms;
        _membersPerRoom = membersPerRoom;
        _sendInterval = sendInterval;
        Sent = rooms.Select(_ => new List<string>()).ToArray();
    }

    /// <summary>Acknowledged event ids per room, in the order the sends were acknowledged.</summary>
    public List<string>[] Sent { get; }

    public IReadOnlyCollection<FailedRequest> Failures => _failures;

    public int LimitedTimelines => _limited;

    /// <summary>Incremental syncs that carried room state again, which only a resync does.</summary>
    public int Resyncs => _resyncs;

    public IReadOnlyList<string> Rooms => _rooms;

    /// <summary>The longest time a client waited for a send to be acknowledged, retries included.</summary>
    public TimeSpan SlowestSend => TimeSpan.FromTicks(Interlocked.Read(ref _slowestSendTicks));

    /// <summary>Sends still failing when the load stopped and its catch-up time ran out: never acknowledged.</summary>
    public int AbandonedSends => _abandoned;

    public int AcknowledgedCount => Sent.Sum(s => s.Count);

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Registers <paramref name="rooms"/> × <paramref name="membersPerRoom"/> users and puts each group in a room.</summary>
    public static async Task<ChatLoad> SetUpAsync(HttpClient http, int rooms, int membersPerRoom, TimeSpan sendInterval)
    {
        using var registering = new SemaphoreSlim(8);
        var members = await Task.WhenAll(Enumerable.Range(0, rooms * membersPerRoom).Select(async index =>
        {
            await registering.WaitAsync();
            try
            {
                return new Member(index, index / membersPerRoom, await ProcessCluster.RegisterAsync(http, $"user{index}"));
            }
            finally
            {
                registering.Release();
            }
        }));
        var roomIds = await Task.WhenAll(Enumerable.Range(0, rooms).Select(async room =>
        {
            var owner = members[room * membersPerRoom];
            var roomId = (await ProcessCluster.CallAsync(http, HttpMethod.Post, "/_matrix/client/v3/createRoom", owner.Token,
                new { preset = "public_chat" })).GetProperty("room_id").GetString()!;
            for (var m = 1; m < membersPerRoom; m++)
                await ProcessCluster.CallAsync(http, HttpMethod.Post, $"/_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}",
                    members[room * membersPerRoom + m].Token, new { });
            return roomId;
        }));
        var load = new ChatLoad(http, members, roomIds, membersPerRoom, sendInterval);
        // Initial syncs before the first send, so every message arrives through incremental syncs.
        await Task.WhenAll(members.Select(async member =>
            member.Since = (await ProcessCluster.CallAsync(http, HttpMethod.Get,
                $"/_matrix/client/v3/sync?filter={Uri.EscapeDataString(Filter)}", member.Token)).GetProperty("next_batch").GetString()!));
        return load;
    }

    public void Start()
    {
        _syncers = _members.Select(SyncLoopAsync).ToArray();
        _senders = Enumerable.Range(0, _rooms.Length).Select(SendLoopAsync).ToArray();
    }

    /// <summary>Marks a stretch of time (a drain, a crash) whose sends count as "during a disturbance" in latencies.</summary>
    public IDisposable Disturbance()
    {
        var start = Now;
        return new Disposer(() => { lock (_disturbances) _disturbances.Add((start, Now)); });
    }

    /// <summary>Stops sending, then lets every member catch up with what was acknowledged (at most <paramref name="catchUp"/>).</summary>
    public async Task StopAsync(TimeSpan catchUp)
    {
        var deadline = Now + catchUp;
        _giveUpAt = deadline;
        _stopSending.Cancel();
        await Task.WhenAll(_senders);
        while (Now < deadline && _members.Any(m => m.DistinctReceived < Sent[m.Room].Count)) await Task.Delay(200);
        _stopSyncing.Cancel();
        await Task.WhenAll(_syncers);
    }

    /// <summary>Sends still succeed: waits until <paramref name="count"/> more sends were acknowledged.</summary>
    public async Task<TimeSpan> WaitForAcknowledgementsAsync(int count, TimeSpan timeout)
    {
        var target = AcknowledgedCount + count;
        var start = Now;
        while (AcknowledgedCount < target)
        {
            if (Now - start > timeout) throw new TimeoutException($"Only {AcknowledgedCount - target + count} of {count} sends acknowledged in {timeout}.");
            await Task.Delay(100);
        }
        return Now - start;
    }

    /// <summary>
    /// Sends every acknowledged message again with its transaction id, as a client that never saw the response
    /// would, and lists those not answered with the event id of the first acknowledgement.
    /// </summary>
    public async Task<List<string>> ResendAcknowledgedAsync()
    {
        var mismatches = new List<string>();
        for (var room = 0; room < _rooms.Length; room++)
        {
            var sender = _members[room * _membersPerRoom];
            for (var n = 0; n < Sent[room].Count; n++)
            {
                var eventId = (await ProcessCluster.CallAsync(_http, HttpMethod.Put,
                    $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(_rooms[room])}/send/m.room.message/{TransactionId(n)}", sender.Token,
                    new { msgtype = "m.text", body = Body(room, n) })).GetProperty("event_id").GetString();
                if (eventId != Sent[room][n]) mismatches.Add($"room{room} {TransactionId(n)}: {eventId}, first acknowledged as {Sent[room][n]}");
            }
        }
        return mismatches;
    }

    private static string TransactionId(int n) => $"txn{n}";

    private static string Body(int room, int n) => $"room{room}-{n}";

    /// <summary>Per member, the problems with what its syncs delivered: missing, duplicated or out-of-order messages.</summary>
    public List<string> DeliveryProblems(bool duplicatesAllowed = false)
    {
        var problems = new List<string>();
        foreach (var member in _members)
        {
            var expected = Sent[member.Room];
            var received = member.ReceivedIds();
            var missing = expected.Except(received).Count();
            var duplicates = received.Count - received.Distinct().Count();
            var expectedIds = expected.ToHashSet();
            var firstOccurrences = received.Distinct().Where(expectedIds.Contains).ToList();
            var receivedIds = firstOccurrences.ToHashSet();
            var outOfOrder = !firstOccurrences.SequenceEqual(expected.Where(receivedIds.Contains));
            if (missing > 0 || (duplicates > 0 && !duplicatesAllowed) || outOfOrder)
                problems.Add($"user{member.Index}: {missing} missing, {duplicates} duplicates, out of order: {outOfOrder} ({expected.Count} sent)");
        }
        return problems;
    }

    /// <summary>Send-to-receive latencies (send issued → a member's /sync response containing it), split by disturbance.</summary>
    public (List<double> Steady, List<double> Disturbed) LatenciesMs()
    {
        List<(TimeSpan Start, TimeSpan End)> windows;
        lock (_disturbances) windows = [.. _disturbances];
        var steady = new List<double>();
        var disturbed = new List<double>();
        foreach (var member in _members)
        {
            foreach (var (body, at) in member.ArrivalTimes())
            {
                if (!_issuedAt.TryGetValue(body, out var issued)) continue;
                var latency = (at - issued).TotalMilliseconds;
                (windows.Any(w => issued >= w.Start && issued <= w.End) ? disturbed : steady).Add(latency);
            }
        }
        return (steady, disturbed);
    }

    public static string Describe(List<double> latencies)
    {
        if (latencies.Count == 0) return "no samples";
        latencies.Sort();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        return $"p50 {Percentile(0.50):0} ms, p99 {Percentile(0.99):0} ms, max {latencies[^1]:0} ms ({latencies.Count} deliveries)";
    }

    private async Task SendLoopAsync(int room)
    {
        var sender = _members[room * _membersPerRoom];
        for (var n = 0; !_stopSending.IsCancellationRequested; n++)
        {
            var body = Body(room, n);
            _issuedAt[body] = Now;
            // A client resends a failed request with the same transaction id until it is acknowledged.
            while (true)
            {
                var response = await TryAsync(HttpMethod.Put,
                    $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(_rooms[room])}/send/m.room.message/{TransactionId(n)}", sender.Token,
                    new { msgtype = "m.text", body });
                if (response is { } result)
                {
                    lock (Sent[room]) Sent[room].Add(result.GetProperty("event_id").GetString()!);
                    RecordSendTime(Now - _issuedAt[body]);
                    break;
                }
                if (Now > _giveUpAt)
                {
                    Interlocked.Increment(ref _abandoned);
                    break;
                }
                await Task.Delay(250);
            }
            try
            {
                await Task.Delay(_sendInterval, _stopSending.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void RecordSendTime(TimeSpan took)
    {
        long slowest;
        while (took.Ticks > (slowest = Interlocked.Read(ref _slowestSendTicks)) &&
               Interlocked.CompareExchange(ref _slowestSendTicks, took.Ticks, slowest) != slowest)
        {
        }
    }

    private async Task SyncLoopAsync(Member member)
    {
        while (!_stopSyncing.IsCancellationRequested)
        {
            var response = await TryAsync(HttpMethod.Get,
                $"/_matrix/client/v3/sync?timeout=5000&since={Uri.EscapeDataString(member.Since)}&filter={Uri.EscapeDataString(Filter)}", member.Token);
            if (response is not { } sync)
            {
                await Task.Delay(250);
                continue;
            }
            var at = Now;
            member.Since = sync.GetProperty("next_batch").GetString()!;
            if (!sync.TryGetProperty("rooms", out var rooms) || !rooms.TryGetProperty("join", out var joined)) continue;
            foreach (var room in joined.EnumerateObject())
            {
                if (room.Value.TryGetProperty("state", out var state) && state.TryGetProperty("events", out var stateEvents) && stateEvents.GetArrayLength() > 0)
                    Interlocked.Increment(ref _resyncs);
                var timeline = room.Value.GetProperty("timeline");
                if (timeline.TryGetProperty("limited", out var limited) && limited.GetBoolean()) Interlocked.Increment(ref _limited);
                foreach (var e in timeline.GetProperty("events").EnumerateArray())
                {
                    if (e.GetProperty("type").GetString() != "m.room.message")
                    {
                        Interlocked.Increment(ref _resyncs);
                        continue;
                    }
                    member.Receive(e.GetProperty("event_id").GetString()!, e.GetProperty("content").GetProperty("body").GetString()!, at);
                }
            }
        }
    }

    /// <summary>One attempt; null (and a recorded failure) unless it succeeded.</summary>
    private async Task<JsonElement?> TryAsync(HttpMethod method, string path, string token, object? body = null)
    {
        var start = Now;
        try
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = new("Bearer", token);
            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode) return JsonDocument.Parse(text).RootElement.Clone();
            _failures.Enqueue(new FailedRequest(method.Method, path.Split('?')[0], (int)response.StatusCode, text,
                response.Headers.RetryAfter?.Delta, start, Now - start));
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
        {
            _failures.Enqueue(new FailedRequest(method.Method, path.Split('?')[0], null, $"{exception.GetType().Name}: {exception.Message}", null, start, Now - start));
        }
        return null;
    }

    private sealed class Member(int index, int room, string token)
    {
        public int Index { get; } = index;
        public int Room { get; } = room;
        public string Token { get; } = token;
        private readonly List<string> _received = [];
        private readonly List<(string Body, TimeSpan At)> _arrivals = [];

        public string Since { get; set; } = "";

        public int DistinctReceived
        {
            get { lock (_received) return _received.Distinct().Count(); }
        }

        public void Receive(string eventId, string body, TimeSpan at)
        {
            lock (_received)
            {
                _received.Add(eventId);
                _arrivals.Add((body, at));
            }
        }

        public List<string> ReceivedIds()
        {
            lock (_received) return [.. _received];
        }

        public List<(string Body, TimeSpan At)> ArrivalTimes()
        {
            lock (_received) return [.. _arrivals];
        }
    }

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

/// <summary>A request that did not succeed: its HTTP status (null for a connection failure), body, Retry-After and duration.</summary>
internal sealed record FailedRequest(string Method, string Path, int? Status, string Body, TimeSpan? RetryAfter, TimeSpan At, TimeSpan Took)
{
    public override string ToString() => $"{Method} {Path} at {At.TotalSeconds:0.0} s -> {Status?.ToString() ?? "no response"} after {Took.TotalMilliseconds:0} ms: {Body}";
}
