using System.Collections.Immutable;
using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms.Forks;

/// <summary>
/// A forward extremity of a forked room: an event of the room no other accepted event cites yet, with what the next
/// event needs of it — its depth and content hash (cited with the id in room versions 1 and 2) and the state after it.
/// </summary>
internal sealed record ForwardExtremity(EventId EventId, long Depth, string? ContentHash, ImmutableDictionary<StateEventKey, EventId> StateAfter)
{
    /// <summary>At most this many extremities are cited by one local event (the spec's limit of prev_events is 20).</summary>
    public const int MaxCited = 10;

    public static ForwardExtremity Of(Pdu pdu, ImmutableDictionary<StateEventKey, EventId> stateAfter) =>
        new(pdu.EventId, pdu.Json.TryGetProperty("depth", out var d) && d.TryGetInt64(out var depth) ? depth : 0, pdu.ContentHash, stateAfter);

    /// <summary>The extremities a new local event cites: the deepest first, then by id, at most <see cref="MaxCited"/>.</summary>
    public static IReadOnlyList<ForwardExtremity> Cited(IEnumerable<ForwardExtremity> extremities) =>
        extremities.OrderByDescending(e => e.Depth).ThenBy(e => e.EventId.Value, StringComparer.Ordinal).Take(MaxCited).ToList();

    public static ImmutableDictionary<StateEventKey, EventId> IdsOf(IReadOnlyDictionary<StateEventKey, Pdu> state) =>
        state.ToImmutableDictionary(entry => entry.Key, entry => entry.Value.EventId);

    /// <summary>The state map as stored: a JSON array of <c>[type, state_key, event_id]</c>.</summary>
    public static byte[] SerializeState(IReadOnlyDictionary<StateEventKey, EventId> state) =>
        JsonSerializer.SerializeToUtf8Bytes(state
            .OrderBy(e => e.Key.Type, StringComparer.Ordinal).ThenBy(e => e.Key.StateKey, StringComparer.Ordinal)
            .Select(e => new[] { e.Key.Type, e.Key.StateKey, e.Value.Value }));

    public static ImmutableDictionary<StateEventKey, EventId> DeserializeState(byte[] json)
    {
        var state = ImmutableDictionary.CreateBuilder<StateEventKey, EventId>();
        foreach (var entry in JsonSerializer.Deserialize<string[][]>(json) ?? [])
            state[new StateEventKey(entry[0], entry[1])] = EventId.Parse(entry[2]);
        return state.ToImmutable();
    }
}
