using HomeServer.Grains.Identifiers;
using System.Text.Json.Nodes;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>
/// The spec's iterative auth checks: each state event in turn is checked by the authorization rules against the
/// state built so far and, when allowed, applied to it; a disallowed event is ignored.
/// </summary>
internal static class IterativeAuthChecks
{
    public static void Apply(RoomVersion version, Dictionary<StateEventKey, Pdu> state, IEnumerable<Pdu> sorted, IEventSource events)
    {
        foreach (var pdu in sorted)
        {
            if (!pdu.IsState)
                continue;
            if (EventAuthorizer.Authorize(version, pdu, StateForCheck(pdu, state, events)).IsAllowed)
                state[pdu.StateKeyOf()] = pdu;
        }
    }

    /// <summary>
    /// The slots the rules read for this event, from the state so far; a slot the state lacks comes from the event's
    /// own auth events unless that auth event was rejected.
    /// </summary>
    private static Dictionary<StateEventKey, Pdu> StateForCheck(Pdu pdu, Dictionary<StateEventKey, Pdu> state, IEventSource events)
    {
        var content = JsonObject.Create(pdu.Content) ?? [];
        var required = AuthEventSelector.RequiredStateKeys(pdu.Type, pdu.StateKey, pdu.Sender, content);
        var forCheck = new Dictionary<StateEventKey, Pdu>();
        Dictionary<StateEventKey, Pdu>? authEvents = null;
        foreach (var key in required)
        {
            if (state.TryGetValue(key, out var current))
            {
                forCheck[key] = current;
                continue;
            }
            authEvents ??= pdu.AuthEventsByKey(events, skipRejected: true);
            if (authEvents.TryGetValue(key, out var authEvent))
                forCheck[key] = authEvent;
        }
        return forCheck;
    }
}
