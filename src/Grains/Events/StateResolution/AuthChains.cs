using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>
/// Auth chains: every event reachable through <c>auth_events</c> links, not counting the starting events
/// themselves. An auth event the source does not know is part of the chain (it is cited) but cannot be followed.
/// </summary>
internal sealed class AuthChains(IEventSource events)
{
    private readonly Dictionary<EventId, HashSet<EventId>> chains = [];

    /// <summary>The auth chain of one event.</summary>
    public IReadOnlySet<EventId> Of(EventId eventId)
    {
        if (!chains.TryGetValue(eventId, out var chain))
        {
            chain = Walk([eventId]);
            chains[eventId] = chain;
        }
        return chain;
    }

    /// <summary>The union of the auth chains of several events (the full auth chain of a state set).</summary>
    public HashSet<EventId> OfAll(IEnumerable<EventId> eventIds) => Walk(eventIds);

    private HashSet<EventId> Walk(IEnumerable<EventId> starts)
    {
        var chain = new HashSet<EventId>();
        var pending = new Stack<EventId>();
        foreach (var start in starts)
            PushAuthEvents(start, pending);
        while (pending.TryPop(out var id))
        {
            // Seen already (also how a cycle of opaque v1/v2 IDs, which hashing cannot rule out, ends).
            if (!chain.Add(id))
                continue;
            PushAuthEvents(id, pending);
        }
        return chain;
    }

    private void PushAuthEvents(EventId id, Stack<EventId> pending)
    {
        if (!events.TryGet(id, out var pdu))
            return;
        foreach (var authId in pdu.AuthEventIds())
            pending.Push(authId);
    }
}
