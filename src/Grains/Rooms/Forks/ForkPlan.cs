using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms.Forks;

/// <summary>
/// What the room worked out for an event that forks it or merges some of its branches, before handing it to the
/// writer: state resolution reads the store, the writer's batch may not. Valid only while the room's extremities are
/// still <see cref="ExpectedExtremities"/>.
/// </summary>
/// <param name="StateBefore">The resolution of the states after the event's previous events.</param>
/// <param name="StateAfterEvent">The state before the event with the event itself, as the state of its new extremity.</param>
/// <param name="CurrentAfter">The room's current state once the event is in: the resolution of the states after each extremity.</param>
/// <param name="Outliers">Events of the state at a gap that this server did not hold, appended before the event.</param>
internal sealed record ForkPlan(
    IReadOnlySet<string> ExpectedExtremities,
    ImmutableDictionary<StateEventKey, Pdu> StateBefore,
    ImmutableDictionary<StateEventKey, EventId> StateAfterEvent,
    ImmutableDictionary<StateEventKey, Pdu> CurrentAfter,
    ImmutableList<ForwardExtremity> ExtremitiesAfter,
    IReadOnlyList<BuiltEvent> Outliers);

/// <summary>The room's extremities changed between planning an event and appending it: plan again.</summary>
internal sealed class StaleForkException() : Exception("The room's forward extremities changed while the event was being planned.");

internal static class StateMaps
{
    /// <summary>The state with <paramref name="pdu"/> in its slot if it is a state event.</summary>
    public static ImmutableDictionary<StateEventKey, Pdu> SetItemIfState(this ImmutableDictionary<StateEventKey, Pdu> state, Pdu pdu) =>
        pdu.StateKey is { } key ? state.SetItem(new StateEventKey(pdu.Type, key), pdu) : state;

    public static ImmutableDictionary<StateEventKey, EventId> SetItemIfState(this ImmutableDictionary<StateEventKey, EventId> state, Pdu pdu) =>
        pdu.StateKey is { } key ? state.SetItem(new StateEventKey(pdu.Type, key), pdu.EventId) : state;
}
