using System.Text.Json;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>The fields of a PDU that the orderings of state resolution read.</summary>
internal static class PduFields
{
    /// <summary><c>origin_server_ts</c>; 0 when absent or not an integer, so a malformed event sorts first, not crashes.</summary>
    public static long OriginServerTs(this Pdu pdu) => IntegerOrZero(pdu, "origin_server_ts");

    public static long Depth(this Pdu pdu) => IntegerOrZero(pdu, "depth");

    public static StateEventKey StateKeyOf(this Pdu pdu) =>
        new(pdu.Type, pdu.StateKey ?? throw new InvalidOperationException($"{pdu} is not a state event."));

    /// <summary>The well-formed IDs among <c>auth_events</c>, without duplicates.</summary>
    public static IEnumerable<EventId> AuthEventIds(this Pdu pdu) =>
        pdu.AuthEvents
            .Select(id => EventId.TryParse(id, out var parsed) ? parsed : null)
            .OfType<EventId>()
            .Distinct();

    /// <summary>
    /// The state events among the event's auth events that <paramref name="events"/> knows, by state key.
    /// With <paramref name="skipRejected"/>, rejected auth events are left out.
    /// </summary>
    public static Dictionary<StateEventKey, Pdu> AuthEventsByKey(this Pdu pdu, IEventSource events, bool skipRejected)
    {
        var byKey = new Dictionary<StateEventKey, Pdu>();
        foreach (var id in pdu.AuthEventIds())
        {
            if (!events.TryGet(id, out var authEvent) || !authEvent.IsState)
                continue;
            if (skipRejected && events.IsRejected(id))
                continue;
            // A well-formed event cites one event per slot; of a malformed one's duplicates the first counts.
            byKey.TryAdd(authEvent.StateKeyOf(), authEvent);
        }
        return byKey;
    }

    private static long IntegerOrZero(Pdu pdu, string key) =>
        pdu.Json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : 0;
}
