using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>
/// Resolves the states of a room after several events (the states after each <c>prev_event</c>) into the state
/// before the event that names them, with the algorithm of the room version: v1's for room version 1, the
/// "Room Version 2" algorithm for versions 2 to 11.
/// </summary>
/// <remarks>
/// Events are looked up in <see cref="IEventSource"/>. One it does not have can neither be authorized nor ordered:
/// in a conflicted slot it is ignored; in an unconflicted slot it is kept (all sets agree on it). Missing auth
/// events end the walk of an auth chain there.
/// </remarks>
public static class StateResolver
{
    public static Dictionary<StateEventKey, EventId> Resolve(RoomVersion version,
        IReadOnlyList<IReadOnlyDictionary<StateEventKey, EventId>> stateSets, IEventSource events)
    {
        switch (stateSets.Count)
        {
            case 0:
                return [];
            case 1:
                return new Dictionary<StateEventKey, EventId>(stateSets[0]);
        }
        return version == RoomVersion.V1
            ? StateResolutionV1.Resolve(version, stateSets, events)
            : StateResolutionV2.Resolve(version, stateSets, events);
    }
}
