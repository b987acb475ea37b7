using System.Security.Cryptography;
using System.Text;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>The original state resolution algorithm of room version 1.</summary>
public static class StateResolutionV1
{
    public static Dictionary<StateEventKey, EventId> Resolve(RoomVersion version,
        IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets, IEventSource events)
    {
        var split = StateSplit.ByDifferentEvents(stateSets);

        // R starts as the union of the state sets without the conflicting events.
        var state = new Dictionary<StateEventKey, Pdu>();
        foreach (var (key, id) in split.Unconflicted)
        {
            if (events.TryGet(id, out var pdu))
                state[key] = pdu;
        }

        // Conflicts are settled in passes (power levels, join rules, members, everything else) because each pass
        // may change what the rules allow in the next.
        var conflicts = split.Conflicted
            .Select(entry => (entry.Key, Events: Known(entry.Value, events)))
            .Where(entry => entry.Events.Count > 0)
            .ToList();
        string[] authPasses = [EventTypes.PowerLevels, EventTypes.JoinRules, EventTypes.Member];
        foreach (var type in authPasses)
        {
            // The spec does not order member slots among themselves; by state key, so the order of the inputs cannot matter.
            var ofType = conflicts.Where(entry => entry.Key.Type == type).OrderBy(entry => entry.Key.StateKey, CodePointComparer.Instance);
            foreach (var (key, candidates) in ofType)
                state[key] = ResolveAuthConflict(version, key, candidates, state);
        }
        foreach (var (key, candidates) in conflicts.Where(entry => !authPasses.Contains(entry.Key.Type)))
            state[key] = ResolveOtherConflict(version, candidates, state);

        var resolved = state.ToDictionary(entry => entry.Key, entry => entry.Value.EventId);
        // Unconflicted events the source lacks still belong to the state; they were merely not available to the rules.
        foreach (var (key, id) in split.Unconflicted)
            resolved.TryAdd(key, id);
        return resolved;
    }

    /// <summary>
    /// Ascending depth, then descending SHA-1 of the event ID: the first is taken as is; each next one replaces it
    /// while the rules allow it on top of R, and the first disallowed one ends the pass.
    /// </summary>
    private static Pdu ResolveAuthConflict(RoomVersion version, StateEventKey key, List<Pdu> candidates, Dictionary<StateEventKey, Pdu> state)
    {
        var sorted = candidates
            .OrderBy(pdu => pdu.Depth())
            .ThenByDescending(pdu => Sha1Hex(pdu.EventId), StringComparer.Ordinal)
            .ToList();
        var winner = sorted[0];
        state[key] = winner;
        foreach (var pdu in sorted.Skip(1))
        {
            if (!EventAuthorizer.Authorize(version, pdu, state).IsAllowed)
                break;
            winner = pdu;
            state[key] = winner;
        }
        return winner;
    }

    /// <summary>
    /// The event with the highest depth, then lowest SHA-1 of its ID, that the rules allow on top of R. The spec
    /// does not say what happens when none is allowed; like Synapse (so that servers agree) we then take the last
    /// in that order, the one of lowest depth.
    /// </summary>
    private static Pdu ResolveOtherConflict(RoomVersion version, List<Pdu> candidates, Dictionary<StateEventKey, Pdu> state)
    {
        var sorted = candidates
            .OrderByDescending(pdu => pdu.Depth())
            .ThenBy(pdu => Sha1Hex(pdu.EventId), StringComparer.Ordinal)
            .ToList();
        return sorted.FirstOrDefault(pdu => EventAuthorizer.Authorize(version, pdu, state).IsAllowed) ?? sorted[^1];
    }

    private static List<Pdu> Known(IEnumerable<EventId> ids, IEventSource events)
    {
        var known = new List<Pdu>();
        foreach (var id in ids)
        {
            if (events.TryGet(id, out var pdu) && pdu.IsState)
                known.Add(pdu);
        }
        return known;
    }

    private static string Sha1Hex(EventId id) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(id.Value)));
}
