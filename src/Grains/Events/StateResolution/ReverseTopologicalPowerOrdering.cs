using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>
/// The spec's reverse topological power ordering: the lexicographically smallest topological order of the events
/// along their auth events (earliest first), found with Kahn's algorithm by always taking the smallest ready event:
/// higher sender power level (read from the event's own auth events) first, then lower <c>origin_server_ts</c>,
/// then lower event ID.
/// </summary>
internal static class ReverseTopologicalPowerOrdering
{
    public static List<Pdu> Sort(RoomVersion version, IReadOnlyCollection<Pdu> pdus, IEventSource events)
    {
        var byId = pdus.ToDictionary(pdu => pdu.EventId);
        var waitingOn = new Dictionary<EventId, int>();
        var dependents = new Dictionary<EventId, List<EventId>>();
        foreach (var pdu in pdus)
        {
            var inSet = pdu.AuthEventIds().Where(id => byId.ContainsKey(id) && id != pdu.EventId).ToList();
            waitingOn[pdu.EventId] = inSet.Count;
            foreach (var authId in inSet)
            {
                if (!dependents.TryGetValue(authId, out var list))
                    dependents[authId] = list = [];
                list.Add(pdu.EventId);
            }
        }

        var keys = pdus.ToDictionary(
            pdu => pdu.EventId,
            pdu => new SortKey(SenderPowerLevel(version, pdu, events), pdu.OriginServerTs(), pdu.EventId));
        var ready = new SortedSet<SortKey>(SortKey.Comparer);
        foreach (var (id, count) in waitingOn)
        {
            if (count == 0)
                ready.Add(keys[id]);
        }

        var sorted = new List<Pdu>(pdus.Count);
        while (ready.Min is { } next)
        {
            ready.Remove(next);
            var id = next.EventId;
            sorted.Add(byId[id]);
            if (!dependents.TryGetValue(id, out var waiting))
                continue;
            foreach (var dependent in waiting)
            {
                if (--waitingOn[dependent] == 0)
                    ready.Add(keys[dependent]);
            }
        }
        // Events on an auth cycle (possible only with the opaque IDs of v1/v2) never become ready and are left out:
        // no order of them respects their auth events.
        return sorted;
    }

    /// <summary>The sender's level under the power levels among the event's auth events (the creator's 100 without one).</summary>
    public static long SenderPowerLevel(RoomVersion version, Pdu pdu, IEventSource events) =>
        PowerLevels.FromState(version, pdu.AuthEventsByKey(events, skipRejected: false)).UserLevel(pdu.Sender.Value);

    private sealed record SortKey(long PowerLevel, long OriginServerTs, EventId EventId)
    {
        public static readonly IComparer<SortKey> Comparer = Comparer<SortKey>.Create((x, y) =>
        {
            var byPower = y.PowerLevel.CompareTo(x.PowerLevel);
            if (byPower != 0)
                return byPower;
            var byTime = x.OriginServerTs.CompareTo(y.OriginServerTs);
            return byTime != 0 ? byTime : CodePointComparer.Instance.Compare(x.EventId.Value, y.EventId.Value);
        });
    }
}
