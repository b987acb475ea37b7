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
/// Message bodies are <c>room{r}-{n}</c>, so n is the order in which room r's sender sent them.
/// </summary>
internal sealed class ChatLoad
{
    public const int DefaultTimelineLimit = 100;

    private readonly string _filter;
    private readonly int _timelineLimit;
    private readonly HttpClient _http;
    private readonly Member[] _members;
    private readonly string[] _rooms;
    private readonly int _membersPerRoom;
    private readonly TimeSpan _sendInterval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, TimeSpan> _issuedAt = new();
    private readonly ConcurrentDictionary<string, TimeSpan> _acknowledgedAt = new();
    private readonly List<(TimeSpan Down, TimeSpan BackAt)> _outages = [];
    private readonly ConcurrentQueue<string> _unwarrantedLimits = new();
    private readonly int[] _burstSendsLeft;
    private TaskCompletionSource _burstRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(TimeSpan Start, TimeSpan End)> _disturbances = [];
    private readonly ConcurrentQueue<FailedRequest> _failures = new();
    private readonly CancellationTokenSource _stopSending = new();
    private readonly CancellationTokenSource _stopSyncing = new();
    private Task[] _senders = [];
    private Task[] _syncers = [];
    private int _limited;
    private int _skippedByLimits;
    private int _backfilled;
    private int _resyncs;
    private int _abandoned;
    private long _slowestSendTicks;
    private TimeSpan _giveUpAt = TimeSpan.MaxValue;

    private ChatLoad(HttpClient http, Member[] members, string[] rooms, int membersPerRoom, TimeSpan sendInterval, int timelineLimit)
    {
        _timelineLimit = timelineLimit;
        _filter = TimelineFilter(timelineLimit);
        _burstSendsLeft = new int[rooms.Length];
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

    /// <summary>
    /// Incremental syncs answered <c>limited</c> although no more than the filter's limit of messages were sent
    /// since the newest one the member had: a whole gap fit in one timeline, yet the member was told to backfill.
    /// </summary>
    public IReadOnlyCollection<string> UnwarrantedLimits => _unwarrantedLimits;

    /// <summary>Messages that limited timelines left out, summed over members: the gaps a client has to backfill.</summary>
    public int SkippedByLimits => _skippedByLimits;

    /// <summary>Messages members fetched with <c>/messages</c> to fill the gaps of limited timelines.</summary>
    public int Backfilled => _backfilled;

    /// <summary>Incremental syncs that carried room state again, which only a resync does.</summary>
    public int Resyncs => _resyncs;

    public IReadOnlyList<string> Rooms => _rooms;

    /// <summary>The longest time a client waited for a send to be acknowledged, retries included.</summary>
    public TimeSpan SlowestSend => TimeSpan.FromTicks(Interlocked.Read(ref _slowestSendTicks));

    /// <summary>Sends still failing when the load stopped and its catch-up time ran out: never acknowledged.</summary>
    public int AbandonedSends => _abandoned;

    public int AcknowledgedCount => Sent.Sum(s => s.Count);

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The wall-clock time of <see cref="Now"/> zero, to lay the load's timeline beside process logs.</summary>
    public DateTime StartedAtUtc { get; } = DateTime.UtcNow;

    /// <summary>
    /// Registers <paramref name="rooms"/> × <paramref name="membersPerRoom"/> users and puts each group in a room; every
    /// sync uses a filter with <paramref name="timelineLimit"/> timeline events.
    /// </summary>
    public static async Task<ChatLoad> SetUpAsync(HttpClient http, int rooms, int membersPerRoom, TimeSpan sendInterval,
        int timelineLimit = DefaultTimelineLimit)
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
        var load = new ChatLoad(http, members, roomIds, membersPerRoom, sendInterval, timelineLimit);
        // Initial syncs before the first send, so every message arrives through incremental syncs.
        await Task.WhenAll(members.Select(async member =>
            member.Since = (await ProcessCluster.CallAsync(http, HttpMethod.Get,
                $"/_matrix/client/v3/sync?filter={Uri.EscapeDataString(load._filter)}", member.Token)).GetProperty("next_batch").GetString()!));
        return load;
    }

    private static string TimelineFilter(int limit) => JsonSerializer.Serialize(new { room = new { timeline = new { limit } } });

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

    /// <summary>
    /// Every room's sender sends its next <paramref name="messagesPerRoom"/> messages back to back, without the send
    /// interval, so that as many commits as there are rooms are in flight at once. Within a room the sends stay one
    /// after the other: concurrent sends to one room would have no defined order to check deliveries against.
    /// </summary>
    public void Burst(int messagesPerRoom)
    {
        lock (_burstSendsLeft) Array.Fill(_burstSendsLeft, messagesPerRoom);
        Interlocked.Exchange(ref _burstRequested, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Records that a process was killed at <paramref name="down"/> and was back (restarted and Active) at
    /// <paramref name="backAt"/>, for <see cref="MeasureLateness"/>.
    /// </summary>
    public void RecordOutage(TimeSpan down, TimeSpan backAt)
    {
        lock (_outages) _outages.Add((down, backAt));
    }

    /// <summary>
    /// For every acknowledged message and every member of its room, how late the message reached the member: the time
    /// from its acknowledgement, or from the end of the last outage that began before it arrived if that is later,
    /// to the member's /sync response containing it. Counts the pairs checked, those later than
    /// <paramref name="allowed"/> and those that never arrived.
    /// </summary>
    public Lateness MeasureLateness(TimeSpan allowed)
    {
        List<(TimeSpan Down, TimeSpan BackAt)> outages;
        lock (_outages) outages = [.. _outages];
        int checkedPairs = 0, missing = 0;
        var late = new List<string>();
        TimeSpan worst = TimeSpan.Zero, worstSinceAcknowledged = TimeSpan.Zero;
        foreach (var member in _members)
        {
            var arrivals = member.FirstArrivals();
            foreach (var (body, acknowledged) in _acknowledgedAt.Where(a => RoomOf(a.Key) == member.Room))
            {
                checkedPairs++;
                if (!arrivals.TryGetValue(body, out var arrived))
                {
                    missing++;
                    continue;
                }
                // Only an outage that began before the message was due excuses it: one that began later found it delivered already.
                var backBefore = outages.Where(o => o.Down <= acknowledged + allowed).Select(o => o.BackAt).DefaultIfEmpty(TimeSpan.Zero).Max();
                var lateness = arrived - (acknowledged > backBefore ? acknowledged : backBefore);
                if (lateness > worst) worst = lateness;
                if (arrived - acknowledged > worstSinceAcknowledged) worstSinceAcknowledged = arrived - acknowledged;
                if (lateness > allowed)
                    late.Add($"user{member.Index}: {body} acknowledged at {acknowledged.TotalSeconds:0.0} s, arrived at {arrived.TotalSeconds:0.0} s\n" +
                        $"  its /sync requests around then:\n{member.DescribeSyncsAround(acknowledged)}");
            }
        }
        return new Lateness(checkedPairs, late, missing, worst, worstSinceAcknowledged);
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

    private static int RoomOf(string body) => int.Parse(body.AsSpan(4, body.IndexOf('-') - 4));

    private static int NumberOf(string body) => int.Parse(body.AsSpan(body.IndexOf('-') + 1));

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
                problems.Add($"user{member.Index}: {missing} missing, {duplicates} duplicates, out of order: {outOfOrder} ({expected.Count} sent)\n" +
                    $"  its /sync requests around the first gap:\n{member.DescribeSyncsAround(FirstGap(member, expected, received))}");
        }
        return problems;
    }

    /// <summary>When the first acknowledged message the member never received was acknowledged.</summary>
    private TimeSpan FirstGap(Member member, List<string> expected, List<string> received)
    {
        var missingIndex = expected.FindIndex(id => !received.Contains(id));
        if (missingIndex < 0) return TimeSpan.Zero;
        var body = Body(member.Room, missingIndex);
        return _acknowledgedAt.TryGetValue(body, out var at) ? at : TimeSpan.Zero;
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
                    _acknowledgedAt[body] = Now;
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
            if (!TakeBurstSend(room)) await WaitForNextSendAsync();
        }
    }

    private bool TakeBurstSend(int room)
    {
        lock (_burstSendsLeft)
        {
            if (_burstSendsLeft[room] == 0) return false;
            _burstSendsLeft[room]--;
            return true;
        }
    }

    /// <summary>The send interval, cut short by a burst or the end of sending.</summary>
    private async Task WaitForNextSendAsync()
    {
        var interval = Task.Delay(_sendInterval, _stopSending.Token);
        await Task.WhenAny(interval, Volatile.Read(ref _burstRequested).Task);
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
            var started = Now;
            var response = await TryAsync(HttpMethod.Get,
                $"/_matrix/client/v3/sync?timeout=5000&since={Uri.EscapeDataString(member.Since)}&filter={Uri.EscapeDataString(_filter)}", member.Token);
            if (response is not { } sync)
            {
                member.RecordSync(new SyncAttempt(started, Now, member.Since, null, 0, false));
                await Task.Delay(250);
                continue;
            }
            var at = Now;
            member.RecordSync(SyncAttempt.Of(started, at, member.Since, sync, _rooms[member.Room]));
            member.Since = sync.GetProperty("next_batch").GetString()!;
            if (!sync.TryGetProperty("rooms", out var rooms) || !rooms.TryGetProperty("join", out var joined)) continue;
            foreach (var room in joined.EnumerateObject())
            {
                if (room.Value.TryGetProperty("state", out var state) && state.TryGetProperty("events", out var stateEvents) && stateEvents.GetArrayLength() > 0)
                    Interlocked.Increment(ref _resyncs);
                var timeline = room.Value.GetProperty("timeline");
                if (timeline.TryGetProperty("limited", out var limited) && limited.GetBoolean())
                {
                    Interlocked.Increment(ref _limited);
                    CheckLimitWarranted(member, timeline, at);
                    await BackfillAsync(member, room.Name, timeline);
                }
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

    /// <summary>
    /// What a client does with a limited timeline: pages back with <c>/messages</c> from its <c>prev_batch</c> until it
    /// reaches a message it has, and shows the gap's messages before the timeline's. They count as delivered when the
    /// backfill answered.
    /// </summary>
    private async Task BackfillAsync(Member member, string roomId, JsonElement timeline)
    {
        if (!timeline.TryGetProperty("prev_batch", out var prevBatch) || prevBatch.GetString() is not { } from) return;
        var newest = member.NewestNumber;
        var gap = new List<(string EventId, string Body)>();
        for (var page = 0; page < 100; page++)
        {
            var response = await TryAsync(HttpMethod.Get,
                $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/messages?dir=b&limit=50&from={Uri.EscapeDataString(from)}", member.Token);
            if (response is not { } messages)
            {
                await Task.Delay(250);
                continue;
            }
            var reachedKnown = false;
            foreach (var e in messages.GetProperty("chunk").EnumerateArray())
            {
                if (e.GetProperty("type").GetString() != "m.room.message") continue;
                var body = e.GetProperty("content").GetProperty("body").GetString()!;
                if (NumberOf(body) <= newest)
                {
                    reachedKnown = true;
                    break;
                }
                gap.Add((e.GetProperty("event_id").GetString()!, body));
            }
            if (reachedKnown || !messages.TryGetProperty("end", out var end) || end.GetString() is not { } next) break;
            from = next;
        }
        Interlocked.Add(ref _backfilled, gap.Count);
        var at = Now;
        for (var i = gap.Count - 1; i >= 0; i--) member.Receive(gap[i].EventId, gap[i].Body, at);
    }

    /// <summary>
    /// A limited timeline is warranted only when more than the filter's limit of messages were sent between the
    /// newest message the member had and the last one of this timeline.
    /// </summary>
    private void CheckLimitWarranted(Member member, JsonElement timeline, TimeSpan at)
    {
        var numbers = timeline.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.message")
            .Select(e => NumberOf(e.GetProperty("content").GetProperty("body").GetString()!))
            .ToList();
        var newest = member.NewestNumber;
        var last = numbers.DefaultIfEmpty(newest).Last();
        Interlocked.Add(ref _skippedByLimits, Math.Max(0, numbers.DefaultIfEmpty(newest + 1).First() - newest - 1));
        var sentInBetween = last - newest;
        if (sentInBetween <= _timelineLimit)
            _unwarrantedLimits.Enqueue($"user{member.Index} at {at.TotalSeconds:0.0} s: limited after message {member.NewestNumber}, " +
                $"last in timeline {last}: {sentInBetween} sent in between, limit {_timelineLimit}");
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

        /// <summary>The highest message number received so far, -1 before the first.</summary>
        public int NewestNumber
        {
            get { lock (_received) return _newestNumber; }
        }

        private int _newestNumber = -1;

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
                _newestNumber = Math.Max(_newestNumber, NumberOf(body));
            }
        }

        private readonly List<SyncAttempt> _syncs = [];

        public void RecordSync(SyncAttempt attempt)
        {
            lock (_syncs) _syncs.Add(attempt);
        }

        /// <summary>The member's /sync attempts from 10 s before <paramref name="at"/> to 40 s after it.</summary>
        public string DescribeSyncsAround(TimeSpan at)
        {
            lock (_syncs)
                return string.Join('\n', _syncs.Where(s => s.End >= at - TimeSpan.FromSeconds(10) && s.Start <= at + TimeSpan.FromSeconds(40))
                    .Select(s => $"    {s}"));
        }

        public List<string> ReceivedIds()
        {
            lock (_received) return [.. _received];
        }

        public List<(string Body, TimeSpan At)> ArrivalTimes()
        {
            lock (_received) return [.. _arrivals];
        }

        public Dictionary<string, TimeSpan> FirstArrivals()
        {
            lock (_received) return _arrivals.DistinctBy(a => a.Body).ToDictionary(a => a.Body, a => a.At);
        }
    }

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

/// <summary>
/// (member, acknowledged message) pairs checked, how many arrived later than allowed after their acknowledgement or
/// the end of an outage, how many never arrived, the latest arrival by that measure and the longest time from an
/// acknowledgement to the arrival, outages included.
/// </summary>
internal sealed record Lateness(int Checked, IReadOnlyList<string> LateDeliveries, int Missing, TimeSpan Worst, TimeSpan WorstSinceAcknowledged)
{
    public int Late => LateDeliveries.Count;
}

/// <summary>One /sync long-poll of a member: when, from which token to which, and what its room's timeline held.</summary>
internal sealed record SyncAttempt(TimeSpan Start, TimeSpan End, string Since, string? NextBatch, int Messages, bool Limited)
{
    public static SyncAttempt Of(TimeSpan start, TimeSpan end, string since, JsonElement sync, string roomId)
    {
        var messages = 0;
        var limited = false;
        if (sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var joined) &&
            joined.TryGetProperty(roomId, out var room) && room.TryGetProperty("timeline", out var timeline))
        {
            messages = timeline.GetProperty("events").GetArrayLength();
            limited = timeline.TryGetProperty("limited", out var l) && l.GetBoolean();
        }
        return new SyncAttempt(start, end, since, sync.GetProperty("next_batch").GetString(), messages, limited);
    }

    public override string ToString() =>
        $"{Start.TotalSeconds:0.0}–{End.TotalSeconds:0.0} s since {Since} -> {NextBatch ?? "failed"}: {Messages} events{(Limited ? ", limited" : "")}";
}

/// <summary>A request that did not succeed: its HTTP status (null for a connection failure), body, Retry-After and duration.</summary>
internal sealed record FailedRequest(string Method, string Path, int? Status, string Body, TimeSpan? RetryAfter, TimeSpan At, TimeSpan Took)
{
    public override string ToString() => $"{Method} {Path} at {At.TotalSeconds:0.0} s -> {Status?.ToString() ?? "no response"} after {Took.TotalMilliseconds:0} ms: {Body}";
}
