using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Walks of a room's event graph along <c>prev_events</c>, as the spec defines <c>/backfill</c> and
/// <c>/get_missing_events</c> (docs/adr/0047-graph-walks-for-federation-reads.md). Since forks (docs/adr/0041) the
/// log interleaves branches, so its order is not the graph's. The lookup gives each event reached: one of the
/// timeline, which is answered; a rejected one, which is walked through but never answered; or none (never
/// received, or soft-failed and kept outside the timeline), which ends its branch.
/// </summary>
internal static class EventGraph
{
    /// <summary>At most this many events walked through without being answered, per event answered.</summary>
    private const int MaxWalkedThroughPerEvent = 10;

    /// <summary>
    /// The <paramref name="from"/> events and those before them, at most <paramref name="limit"/>, deepest first (the
    /// newest arrival first among equal depths): a walk that always continues at the deepest event reached so far.
    /// </summary>
    public static async Task<List<StoredEvent>> BackfillAsync(
        IEnumerable<StoredEvent> from, int limit, Func<string, Task<Node?>> lookup)
    {
        var queued = new HashSet<string>(StringComparer.Ordinal);
        var frontier = new PriorityQueue<Node, Node>(Node.DeepestFirst);
        foreach (var e in from)
        {
            if (queued.Add(e.EventId)) frontier.Enqueue(Node.Of(e), Node.Of(e));
        }

        var walked = new List<StoredEvent>();
        var walkedThrough = 0;
        while (walked.Count < limit && walkedThrough <= MaxWalkedThroughPerEvent * limit && frontier.TryDequeue(out var next, out _))
        {
            if (next.Event is { } e) walked.Add(e);
            else walkedThrough++;
            foreach (var prevId in next.PrevEvents)
            {
                if (!queued.Add(prevId)) continue;
                if (await lookup(prevId) is { } prev) frontier.Enqueue(prev, prev);
            }
        }
        return walked;
    }

    /// <summary>
    /// The events before <paramref name="latest"/> (not included), breadth first, that are not
    /// <paramref name="earliest"/> nor reached only through them, nor below <paramref name="minDepth"/>: at most
    /// <paramref name="limit"/>, the nearest to <paramref name="latest"/> kept. Returned oldest first (by depth, then
    /// arrival), the order in which the asking server applies them.
    /// </summary>
    public static async Task<List<StoredEvent>> MissingAsync(
        IEnumerable<StoredEvent> latest, IEnumerable<string> earliest, int limit, long minDepth,
        Func<string, Task<Node?>> lookup)
    {
        var seen = new HashSet<string>(earliest, StringComparer.Ordinal);
        var front = latest.Where(e => seen.Add(e.EventId)).Select(Node.Of).ToList();

        var found = new List<Node>();
        var walkedThrough = 0;
        while (front.Count > 0 && found.Count < limit && walkedThrough <= MaxWalkedThroughPerEvent * limit)
        {
            var next = new List<Node>();
            foreach (var node in front)
            {
                foreach (var prevId in node.PrevEvents)
                {
                    if (!seen.Add(prevId)) continue;
                    if (await lookup(prevId) is { } prev && prev.Depth >= minDepth) next.Add(prev);
                }
            }
            // Within a layer the deepest first, so that the limit keeps the events nearest latest_events.
            next.Sort(Node.DeepestFirst);
            foreach (var node in next)
            {
                if (node.Event is null) walkedThrough++;
                else if (found.Count < limit) found.Add(node);
            }
            front = next;
        }
        found.Sort(Node.DeepestFirst);
        found.Reverse();
        return found.Select(n => n.Event!).ToList();
    }

    /// <summary>An event reached by a walk: <see cref="Event"/> is null for one walked through but not answered.</summary>
    internal sealed record Node(StoredEvent? Event, long Depth, IReadOnlyList<string> PrevEvents)
    {
        /// <summary>The deepest first, then the latest arrival.</summary>
        public static readonly IComparer<Node> DeepestFirst = Comparer<Node>.Create((x, y) =>
        {
            var byDepth = y.Depth.CompareTo(x.Depth);
            return byDepth != 0 ? byDepth : (y.Event?.RoomPosition ?? 0).CompareTo(x.Event?.RoomPosition ?? 0);
        });

        public static Node Of(StoredEvent e)
        {
            var pdu = Pdu.Parse(Identifiers.EventId.Parse(e.EventId), e.Json);
            return new Node(e, DepthOf(pdu), pdu.PrevEvents);
        }

        public static Node WalkedThrough(Pdu pdu) => new(null, DepthOf(pdu), pdu.PrevEvents);

        private static long DepthOf(Pdu pdu) =>
            pdu.Json.TryGetProperty("depth", out var d) && d.TryGetInt64(out var value) ? value : 0;
    }
}
