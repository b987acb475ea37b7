using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events.StateResolution;

/// <summary>Resolves state sets in every order of the inputs and asserts each order gives the same state.</summary>
internal static class Resolution
{
    public static Dictionary<StateEventKey, EventId> OfForks(RoomDag dag, params RoomFork[] forks) =>
        OfSets(dag.Version, dag.Events, forks.Select(fork => fork.StateIds).ToArray());

    public static Dictionary<StateEventKey, EventId> OfSets(RoomVersion version, IEventSource events,
        params IReadOnlyDictionary<StateEventKey, EventId>[] sets)
    {
        Dictionary<StateEventKey, EventId>? first = null;
        foreach (var order in Permutations(sets))
        {
            var resolved = StateResolver.Resolve(version, order, events);
            if (first is null)
                first = resolved;
            else
                Assert.Equal(Sorted(first), Sorted(resolved));
        }
        return first!;
    }

    public static EventId? Slot(this Dictionary<StateEventKey, EventId> state, StateEventKey key) =>
        state.TryGetValue(key, out var id) ? id : null;

    public static EventId? Member(this Dictionary<StateEventKey, EventId> state, UserId user) =>
        state.Slot(StateEventKey.Member(user.Value));

    private static List<KeyValuePair<StateEventKey, EventId>> Sorted(Dictionary<StateEventKey, EventId> state) =>
        state.OrderBy(entry => entry.Key.Type, StringComparer.Ordinal).ThenBy(entry => entry.Key.StateKey, StringComparer.Ordinal).ToList();

    private static IEnumerable<IReadOnlyList<T>> Permutations<T>(IReadOnlyList<T> items)
    {
        if (items.Count <= 1)
        {
            yield return items;
            yield break;
        }
        for (var i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, index) => index != i).ToList();
            foreach (var tail in Permutations(rest))
                yield return [items[i], .. tail];
        }
    }
}
