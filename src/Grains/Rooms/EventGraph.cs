using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Walks of a room's event graph along <c>prev_events</c>, as the spec defines <c>/backfill</c> and
/// <c>/get_missing_events</c> (docs/adr/0047-graph-walks-for-federation-reads.md). Since forks (docs/adr/0041) the
/// log interleaves branches, so its order is not the graph's. Events the lookup does not find (never received, or
/// soft-failed and kept outside the timeline) end their branch of the walk.
/// </summary>
internal static class EventGraph
{
    /// <summary>
    /// The <paramref name="from"/> events and those before them, at most <paramref name="limit"/>, deepest first (the
    /// newest arrival first among equal depths): a walk that always continues at the deepest event reached so far.
    /// </summary>
    public static async Task<List<StoredEvent>> BackfillAsync(
        IEnumerable<StoredEvent> from, int limit, Func<string, Task<StoredEvent?>> lookup)
    {
        var queued = new HashSet<string>(StringComparer.Ordinal);
        var frontier = new PriorityQueue<Node, Node>(Node.DeepestFirst);
        foreach (var e in from)
        {
            if (queued.Add(e.EventId)) frontier.Enqueue(Node.Of(e), Node.Of(e));
        }

        var walked = new List<StoredEvent>();
        while (walked.Count < limit && frontier.TryDequeue(out var next, out _))
        {
            walked.Add(next.Event);
            foreach (var prevId in next.PrevEvents)
            {
                if (!queued.Add(prevId)) continue;
                if (await lookup(prevId) is { } prev) frontier.Enqueue(Node.Of(prev), Node.Of(prev));
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
        Func<string, Task<StoredEvent?>> lookup)
    {
        var seen = new HashSet<string>(earliest, StringComparer.Ordinal);
        var front = latest.Where(e => seen.Add(e.EventId)).Select(Node.Of).ToList();

        var found = new List<Node>();
        while (front.Count > 0 && found.Count < limit)
        {
            var next = new List<Node>();
            foreach (var node in front)
            {
                foreach (var prevId in node.PrevEvents)
                {
                    if (!seen.Add(prevId)) continue;
                    if (await lookup(prevId) is not { } prev) continue;
                    var prevNode = Node.Of(prev);
                    if (prevNode.Depth >= minDepth) next.Add(prevNode);
                }
            }
            // Within a layer the deepest first, so that the limit keeps the events nearest latest_events.
            next.Sort(Node.DeepestFirst);
            found.AddRange(next.Take(limit - found.Count));
            front = next;
        }
        found.Sort(Node.DeepestFirst);
        found.Reverse();
        return found.Select(n => n.Event).ToList();
    }

    private sealed record Node(StoredEvent Event, long Depth, IReadOnlyList<string> PrevEvents)
    {
        /// <summary>The deepest first, then the latest arrival.</summary>
        public static readonly IComparer<Node> DeepestFirst = Comparer<Node>.Create((x, y) =>
        {
            var byDepth = y.Depth.CompareTo(x.Depth);
            return byDepth != 0 ? byDepth : y.Event.RoomPosition.CompareTo(x.Event.RoomPosition);
        });

        public static Node Of(StoredEvent e)
        {
            var pdu = Pdu.Parse(Identifiers.EventId.Parse(e.EventId), e.Json);
            var depth = pdu.Json.TryGetProperty("depth", out var d) && d.TryGetInt64(out var value) ? value : 0;
            return new Node(e, depth, pdu.PrevEvents);
        }
    }
}
