using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>
/// The spec's mainline ordering based on a power levels event P: events whose power levels chain meets P's
/// mainline further back (or never) come first, then lower <c>origin_server_ts</c>, then lower event ID.
/// </summary>
internal static class MainlineOrdering
{
    /// <summary>Stands for the spec's ∞: the event's power levels chain never meets the mainline.</summary>
    private const int NotOnMainline = int.MaxValue;

    public static List<Pdu> Sort(Pdu? powerLevels, IEnumerable<Pdu> pdus, IEventSource events)
    {
        var mainline = Mainline(powerLevels, events);
        return pdus
            .Select(pdu => (Pdu: pdu, Position: Position(pdu, mainline, events)))
            .OrderByDescending(entry => entry.Position)
            .ThenBy(entry => entry.Pdu.OriginServerTs())
            .ThenBy(entry => entry.Pdu.EventId.Value, CodePointComparer.Instance)
            .Select(entry => entry.Pdu)
            .ToList();
    }

    /// <summary>P₀ = <paramref name="powerLevels"/>, then each Pᵢ₊₁ the power levels event among Pᵢ's auth events: ID → i.</summary>
    public static Dictionary<EventId, int> Mainline(Pdu? powerLevels, IEventSource events)
    {
        var mainline = new Dictionary<EventId, int>();
        // A power levels event met twice means an auth cycle (opaque v1/v2 IDs); the mainline ends there.
        for (var current = powerLevels; current is not null && mainline.TryAdd(current.EventId, mainline.Count);)
            current = PowerLevelsAuthEvent(current, events);
        return mainline;
    }

    /// <summary>The index i of the first eⱼ (j ≥ 1, e₀ being the event itself) on the mainline, or ∞.</summary>
    public static int Position(Pdu pdu, IReadOnlyDictionary<EventId, int> mainline, IEventSource events)
    {
        var seen = new HashSet<EventId> { pdu.EventId };
        for (var next = PowerLevelsAuthEvent(pdu, events); next is not null && seen.Add(next.EventId);)
        {
            if (mainline.TryGetValue(next.EventId, out var position))
                return position;
            next = PowerLevelsAuthEvent(next, events);
        }
        return NotOnMainline;
    }

    private static Pdu? PowerLevelsAuthEvent(Pdu pdu, IEventSource events)
    {
        foreach (var id in pdu.AuthEventIds())
        {
            if (events.TryGet(id, out var authEvent) && authEvent.Type == EventTypes.PowerLevels && authEvent.StateKey == "")
                return authEvent;
        }
        return null;
    }
}
