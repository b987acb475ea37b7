using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>The state resolution algorithm of room versions 2 to 11 (the spec's "Room Version 2" algorithm).</summary>
public static class StateResolutionV2
{
    public static Dictionary<StateEventKey, EventId> Resolve(RoomVersion version,
        IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets, IEventSource events)
    {
        var split = StateSplit.RequiringEverySet(stateSets);
        var chains = new AuthChains(events);

        var fullConflicted = new HashSet<EventId>(split.ConflictedEvents);
        fullConflicted.UnionWith(AuthDifference(stateSets, chains));
        // An event the source does not have can be neither ordered nor authorized, so it cannot win a slot.
        var conflicted = new Dictionary<EventId, Pdu>();
        foreach (var id in fullConflicted)
        {
            if (events.TryGet(id, out var pdu) && pdu.IsState)
                conflicted[id] = pdu;
        }

        // 1. Power events of the full conflicted set, with the members of their auth chains that are in it too.
        var powerEvents = new Dictionary<EventId, Pdu>();
        foreach (var pdu in conflicted.Values.Where(IsPowerEvent))
        {
            powerEvents[pdu.EventId] = pdu;
            foreach (var authId in chains.Of(pdu.EventId))
            {
                if (conflicted.TryGetValue(authId, out var authEvent))
                    powerEvents[authId] = authEvent;
            }
        }
        var sortedPowerEvents = ReverseTopologicalPowerOrdering.Sort(version, powerEvents.Values, events);

        // 2. Iterative auth checks of those on top of the unconflicted state.
        var state = new Dictionary<StateEventKey, Pdu>();
        foreach (var (key, id) in split.Unconflicted)
        {
            if (events.TryGet(id, out var pdu))
                state[key] = pdu;
        }
        IterativeAuthChecks.Apply(version, state, sortedPowerEvents, events);

        // 3. The other events by mainline ordering of the power levels just resolved; 4. their iterative auth checks.
        var others = conflicted.Values.Where(pdu => !powerEvents.ContainsKey(pdu.EventId));
        var resolvedPowerLevels = state.GetValueOrDefault(StateEventKey.PowerLevels);
        IterativeAuthChecks.Apply(version, state, MainlineOrdering.Sort(resolvedPowerLevels, others, events), events);

        // 5. The unconflicted state has the last word.
        var resolved = state.ToDictionary(entry => entry.Key, entry => entry.Value.EventId);
        foreach (var (key, id) in split.Unconflicted)
            resolved[key] = id;
        return resolved;
    }

    /// <summary>
    /// Power levels, join rules, and memberships of leave or ban that someone other than the member sent (kicks and
    /// bans): the events that can take away someone's ability to act in the room.
    /// </summary>
    public static bool IsPowerEvent(Pdu pdu)
    {
        if (!pdu.IsState)
            return false;
        if (pdu.Type is EventTypes.PowerLevels or EventTypes.JoinRules)
            return true;
        return pdu.Type == EventTypes.Member
            && pdu.GetContentString("membership") is Membership.Leave or Membership.Ban
            && pdu.StateKey != pdu.Sender.Value;
    }

    /// <summary>
    /// The union of the state sets' full auth chains minus their intersection. A set's full auth chain here holds
    /// the set's own events too, as Synapse computes it: read literally, the spec would leave them out, which only
    /// changes anything for unconflicted events (every set holds them), and would put those among the conflicted
    /// ones whenever some set's events happen not to cite them. Servers must agree, so we take the reading the
    /// most widely deployed implementation takes.
    /// </summary>
    internal static HashSet<EventId> AuthDifference(IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets, AuthChains chains)
    {
        var fullChains = stateSets.Select(set =>
        {
            var chain = chains.OfAll(set.Values);
            chain.UnionWith(set.Values);
            return chain;
        }).ToList();
        var union = new HashSet<EventId>(fullChains.SelectMany(chain => chain));
        var intersection = new HashSet<EventId>(fullChains[0]);
        foreach (var chain in fullChains.Skip(1))
            intersection.IntersectWith(chain);
        union.ExceptWith(intersection);
        return union;
    }
}
