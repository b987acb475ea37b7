using System.Collections.Concurrent;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Delivery;

/// <summary>
/// Checks every sync response of every chain against the rooms' histories as it arrives: per room, a chain's
/// timelines concatenated are the room's history from where the chain began following it (its start token, its
/// initial sync or the user's join), in order, without duplicates; a gap only where the timeline says limited, and
/// only when more events of the room were new than the filter's limit, or than <see cref="GaplessBacklog"/> for a token
/// of another sync grain activation (which catches up without a gap). Remembers what each token delivered,
/// so a chain restarted from an old token is checked against exactly what came after it.
/// </summary>
public sealed class DeliveryChecker(RoomHistories histories)
{
    /// <summary>
    /// How many new events of a room an incremental sync from another activation's token delivers without a gap (over
    /// several responses when the filter's limit is smaller); only a larger backlog may be answered with a limited
    /// timeline then. A token of the same activation is answered with a gap as soon as the backlog exceeds the limit.
    /// </summary>
    public const int GaplessBacklog = 100;

    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, long>> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Violation> _violations = new();
    private int _nextChain;

    public IReadOnlyCollection<Violation> Violations => _violations;

    public DeliveryStatistics Statistics { get; } = new();

    /// <summary>A chain from <paramref name="since"/> (a token a response carried) or, when null, from an initial sync.</summary>
    public SyncChain StartChain(string userId, string deviceId, string? since)
    {
        var cursors = since is null ? new Dictionary<string, long>() : _tokens[since];
        Statistics.ChainStarted(fromToken: since is not null);
        return new SyncChain(Interlocked.Increment(ref _nextChain), userId, deviceId, since, cursors);
    }

    public async Task CheckAsync(SyncChain chain, int timelineLimit, ClientSyncResponse response)
    {
        var label = $"{chain} response {chain.Responses + 1} (limit {timelineLimit}, since {chain.Since ?? "none"})";
        var initial = chain.Since is null;
        Statistics.Response(initial);
        var catchingUp = !initial && Epoch(chain.Since!) != Epoch(response.NextBatch);
        foreach (var timeline in response.Joined) await CheckTimelineAsync(chain, timelineLimit, timeline, initial, catchingUp, label);
        foreach (var roomId in response.Left) Violation("left room", $"{label}: {roomId} is under rooms.leave, but nobody leaves a room");
        chain.Advance(response.NextBatch);
        RememberToken(response.NextBatch, chain, label);
    }

    /// <summary>The sync grain activation a token names (its typing epoch, <c>s{E}_{A}_{R}_{epoch}.{sequence}</c>).</summary>
    private static string Epoch(string token) => token.Split('_')[3].Split('.')[0];

    private async Task CheckTimelineAsync(SyncChain chain, int limit, ClientTimeline timeline, bool initial, bool catchingUp, string label)
    {
        var roomId = timeline.RoomId;
        label = $"{label}, {roomId}";
        var events = await ResolveAsync(timeline, label);
        if (events is null || !IsConsecutive(events, label)) return;
        if (events.Count > limit) Violation("over the limit", $"{label}: {events.Count} timeline events, more than the filter's limit");
        if (events.Count == 0)
        {
            if (timeline.Limited) Violation("empty limited timeline", $"{label}: an empty timeline marked limited");
            return;
        }
        Statistics.Delivered(events.Count);
        var first = events[0].RoomPosition;
        var last = events[^1].RoomPosition;
        if (initial)
        {
            if (!timeline.Limited && first != 1) Violation("initial sync gap", $"{label}: initial timeline starts at {first} but is not limited");
            chain.Cursors[roomId] = last;
            return;
        }
        if (chain.Cursors.TryGetValue(roomId, out var cursor))
        {
            await CheckContinuationAsync(roomId, cursor, first, timeline.Limited, limit, catchingUp, label);
            chain.Cursors[roomId] = Math.Max(cursor, last);
            return;
        }
        await CheckNewlyJoinedAsync(chain.UserId, roomId, first, last, timeline.Limited, limit, catchingUp, label);
        chain.Cursors[roomId] = last;
    }

    /// <summary>A room the chain already follows: the timeline starts right after the chain's last event there, unless limited.</summary>
    private async Task CheckContinuationAsync(string roomId, long cursor, long first, bool limited, int limit, bool catchingUp, string label)
    {
        var backlog = await histories.LatestPositionAsync(roomId) - cursor;
        Statistics.Backlog(backlog, limit);
        if (first <= cursor)
        {
            Violation("duplicate", $"{label}: positions {first}..{cursor} delivered again (the chain had up to {cursor})");
        }
        else if (first > cursor + 1)
        {
            if (!limited) Violation("gap without limited", $"{label}: positions {cursor + 1}..{first - 1} skipped without limited");
            else CheckLimitedGap(backlog, limit, catchingUp, $"{label}: limited, skipping {cursor + 1}..{first - 1}");
        }
        else if (limited)
        {
            Violation("limited without gap", $"{label}: limited although the timeline continues right after {cursor}");
        }
    }

    /// <summary>A room the chain sees for the first time: the user joined it, and the timeline covers the join unless limited.</summary>
    private async Task CheckNewlyJoinedAsync(string userId, string roomId, long first, long last, bool limited, int limit, bool catchingUp, string label)
    {
        Statistics.NewlyJoined();
        if (await histories.JoinAsync(roomId, userId, last) is not { } joinEvent)
        {
            Violation("before join", $"{label}: delivered up to {last}, before {userId} joined");
            return;
        }
        var join = joinEvent.RoomPosition;
        if (first <= join) return;
        var backlog = await histories.LatestPositionAsync(roomId) - join + 1;
        if (!limited)
        {
            Violation("join skipped without limited",
                $"{label}: first seen with a timeline starting at {first}, after the user's join at {join} (global {joinEvent.GlobalPosition}), not limited");
        }
        else CheckLimitedGap(backlog, limit, catchingUp, $"{label}: newly joined, limited, skipping {join}..{first - 1}");
    }

    /// <param name="backlog">The room's events after the chain's position as the store has them now: at least what the server saw.</param>
    private void CheckLimitedGap(long backlog, int limit, bool catchingUp, string description)
    {
        Statistics.Limited(backlog);
        if (backlog <= limit) Violation("limited within the limit", $"{description}, with only {backlog} new events");
        else if (catchingUp && backlog <= GaplessBacklog) Violation("limited within the backlog", $"{description}, with only {backlog} new events (up to {GaplessBacklog} arrive without a gap)");
    }

    /// <summary>The timeline's events in the room's history, or null (and a violation) when one is not in it.</summary>
    private async Task<List<StoredEvent>?> ResolveAsync(ClientTimeline timeline, string label)
    {
        var events = new List<StoredEvent>();
        foreach (var eventId in timeline.EventIds)
        {
            if (await histories.FindAsync(timeline.RoomId, eventId) is not { } found)
            {
                Violation("unknown event", $"{label}: {eventId} is not in the room's history");
                return null;
            }
            events.Add(found);
        }
        return events;
    }

    private bool IsConsecutive(List<StoredEvent> events, string label)
    {
        for (var i = 1; i < events.Count; i++)
        {
            if (events[i].RoomPosition == events[i - 1].RoomPosition + 1) continue;
            Violation("not consecutive", $"{label}: timeline positions {string.Join(",", events.Select(e => e.RoomPosition))} are not consecutive");
            return false;
        }
        return true;
    }

    /// <summary>A token names what was delivered up to it, so two chains that were handed the same token must have had the same.</summary>
    private void RememberToken(string token, SyncChain chain, string label)
    {
        var delivered = new Dictionary<string, long>(chain.Cursors, StringComparer.Ordinal);
        var known = _tokens.GetOrAdd(token, delivered);
        if (known.Count != delivered.Count || known.Any(pair => delivered.GetValueOrDefault(pair.Key, -1) != pair.Value))
            Violation("token reissued", $"{label}: token {token} was issued before for {Describe(known)}, now for {Describe(delivered)}");
    }

    private static string Describe(IReadOnlyDictionary<string, long> cursors) =>
        string.Join(", ", cursors.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}@{p.Value}"));

    public void Violation(string kind, string description) => _violations.Enqueue(new Violation(kind, description));
}

/// <param name="Kind">A short name for what went wrong, to count violations of the same kind.</param>
public sealed record Violation(string Kind, string Description)
{
    public override string ToString() => $"[{Kind}] {Description}";
}

/// <summary>What the checked responses looked like, for the test's report.</summary>
public sealed class DeliveryStatistics
{
    private readonly object _lock = new();
    private readonly List<long> _limitedBacklogs = [];

    public int Responses { get; private set; }
    public int InitialSyncs { get; private set; }
    public int EventsDelivered { get; private set; }
    public int NewlyJoinedRooms { get; private set; }

    /// <summary>Incremental timelines whose room had more new events than the filter's limit when the response was checked.</summary>
    public int BacklogsOverLimit { get; private set; }

    public long LargestBacklog { get; private set; }

    public IReadOnlyList<long> LimitedBacklogs
    {
        get
        {
            lock (_lock) return [.. _limitedBacklogs];
        }
    }

    public int ChainsFromTokens { get; private set; }

    public void ChainStarted(bool fromToken)
    {
        lock (_lock)
        {
            if (fromToken) ChainsFromTokens++;
        }
    }

    public void Response(bool initial)
    {
        lock (_lock)
        {
            Responses++;
            if (initial) InitialSyncs++;
        }
    }

    public void Delivered(int events)
    {
        lock (_lock) EventsDelivered += events;
    }

    public void NewlyJoined()
    {
        lock (_lock) NewlyJoinedRooms++;
    }

    public void Backlog(long backlog, int limit)
    {
        lock (_lock)
        {
            if (backlog > limit) BacklogsOverLimit++;
            LargestBacklog = Math.Max(LargestBacklog, backlog);
        }
    }

    public void Limited(long backlog)
    {
        lock (_lock) _limitedBacklogs.Add(backlog);
    }

    public override string ToString()
    {
        var limited = LimitedBacklogs;
        return $"{Responses} responses ({InitialSyncs} initial syncs, {ChainsFromTokens} chains restarted from an earlier token), {EventsDelivered} timeline events, {NewlyJoinedRooms} newly joined rooms, " +
            $"{BacklogsOverLimit} room timelines with more new events than the limit (largest backlog {LargestBacklog}), " +
            $"{limited.Count} limited gaps" + (limited.Count == 0 ? "" : $" (new events at the gap: {string.Join(", ", limited.Order())})");
    }
}
