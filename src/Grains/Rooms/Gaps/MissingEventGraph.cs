using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms.Gaps;

/// <summary>An event fetched to fill a gap, kept as the bytes received (parsed again when it is checked and appended).</summary>
internal sealed record MissingEvent(EventId EventId, byte[] Json, IReadOnlyList<string> PrevEvents, long Depth);

/// <summary>A previous event nothing fetched so far is, and the event (fetched, or the received one) that cites it.</summary>
internal readonly record struct OpenEnd(string CitedBy, string Missing);

/// <summary>
/// The events fetched for one gap, by id. Walking from the received event's previous events through them gives the
/// events that lead to it and the previous events still not fetched (the caller tells held ones from missing ones).
/// </summary>
internal sealed class MissingEventGraph
{
    private readonly Dictionary<string, MissingEvent> _events = new(StringComparer.Ordinal);

    public int Count => _events.Count;

    public bool Contains(string eventId) => _events.ContainsKey(eventId);

    public bool TryAdd(MissingEvent missing) => _events.TryAdd(missing.EventId.Value, missing);

    /// <summary>
    /// The fetched events reachable from <paramref name="citing"/>'s <paramref name="prevEvents"/> through previous
    /// events, and every previous event on the way that was not fetched.
    /// </summary>
    public (List<MissingEvent> Reachable, List<OpenEnd> OpenEnds) Walk(string citing, IReadOnlyList<string> prevEvents)
    {
        var reachable = new List<MissingEvent>();
        var openEnds = new List<OpenEnd>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<OpenEnd>(prevEvents.Select(prev => new OpenEnd(citing, prev)));
        while (pending.TryPop(out var link))
        {
            if (!seen.Add(link.Missing))
            {
                if (!_events.ContainsKey(link.Missing)) openEnds.Add(link);
                continue;
            }
            if (!_events.TryGetValue(link.Missing, out var missing))
            {
                openEnds.Add(link);
                continue;
            }
            reachable.Add(missing);
            foreach (var prev in missing.PrevEvents) pending.Push(new OpenEnd(missing.EventId.Value, prev));
        }
        return (reachable, openEnds);
    }

    /// <summary>
    /// The events oldest first: each after every previous event of it among them (a topological order), the shallower
    /// and then the smaller id first where the graph leaves a choice.
    /// </summary>
    public static List<MissingEvent> OldestFirst(IReadOnlyCollection<MissingEvent> events)
    {
        var byId = events.ToDictionary(e => e.EventId.Value, StringComparer.Ordinal);
        var waitingOn = events.ToDictionary(e => e.EventId.Value, e => e.PrevEvents.Distinct(StringComparer.Ordinal).Count(byId.ContainsKey), StringComparer.Ordinal);
        var children = new Dictionary<string, List<MissingEvent>>(StringComparer.Ordinal);
        foreach (var e in events)
        foreach (var prev in e.PrevEvents.Distinct(StringComparer.Ordinal).Where(byId.ContainsKey))
        {
            if (!children.TryGetValue(prev, out var list)) children[prev] = list = [];
            list.Add(e);
        }

        var ready = new PriorityQueue<MissingEvent, (long, string)>(events.Where(e => waitingOn[e.EventId.Value] == 0).Select(e => (e, Order(e))),
            Comparer<(long Depth, string Id)>.Create((a, b) => a.Depth != b.Depth ? a.Depth.CompareTo(b.Depth) : string.CompareOrdinal(a.Id, b.Id)));
        var ordered = new List<MissingEvent>(events.Count);
        while (ready.TryDequeue(out var next, out _))
        {
            ordered.Add(next);
            if (!children.TryGetValue(next.EventId.Value, out var followers)) continue;
            foreach (var follower in followers)
                if (--waitingOn[follower.EventId.Value] == 0) ready.Enqueue(follower, Order(follower));
        }
        // Events of a cycle (impossible with hashed event ids, possible with v1/v2 ids chosen by a server) are left out.
        return ordered;

        static (long, string) Order(MissingEvent e) => (e.Depth, e.EventId.Value);
    }
}
