using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>The state sets to resolve, split into the slots they agree on and the slots they do not.</summary>
internal sealed class StateSplit
{
    private StateSplit(Dictionary<StateEventKey, EventId> unconflicted, Dictionary<StateEventKey, HashSet<EventId>> conflicted)
    {
        Unconflicted = unconflicted;
        Conflicted = conflicted;
    }

    public Dictionary<StateEventKey, EventId> Unconflicted { get; }

    /// <summary>Each conflicted slot with every event the state sets hold for it.</summary>
    public Dictionary<StateEventKey, HashSet<EventId>> Conflicted { get; }

    public IEnumerable<EventId> ConflictedEvents => Conflicted.Values.SelectMany(ids => ids).Distinct();

    /// <summary>
    /// v2: a slot is unconflicted when every state set holds it, with the same event; a slot some sets lack is
    /// conflicted.
    /// </summary>
    public static StateSplit RequiringEverySet(IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets) =>
        Split(stateSets, absentIsConflict: true);

    /// <summary>
    /// v1: a conflict is two sets holding different events for the same slot; a slot some sets lack is not one.
    /// </summary>
    public static StateSplit ByDifferentEvents(IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets) =>
        Split(stateSets, absentIsConflict: false);

    private static StateSplit Split(IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets, bool absentIsConflict)
    {
        var unconflicted = new Dictionary<StateEventKey, EventId>();
        var conflicted = new Dictionary<StateEventKey, HashSet<EventId>>();
        foreach (var key in stateSets.SelectMany(set => set.Keys).Distinct())
        {
            var values = new HashSet<EventId>();
            var missing = false;
            foreach (var set in stateSets)
            {
                if (set.TryGetValue(key, out var id))
                    values.Add(id);
                else
                    missing = true;
            }
            if (values.Count == 1 && !(missing && absentIsConflict))
                unconflicted[key] = values.First();
            else
                conflicted[key] = values;
        }
        return new StateSplit(unconflicted, conflicted);
    }
}
