using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The state at an event on its own branch of the room's graph, as <c>/state</c> and <c>/state_ids</c> give it to other
/// servers (docs/adr/0047). An event appended in the room's current state has the current state of that moment before
/// it (<see cref="HistoricalState"/>). An event appended outside it (a fork) has the resolution of the states after its
/// previous events; each of those is known to the room (an extremity's, a recent event's), or is the state before that
/// previous event with it, found the same way.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>At most this many events appended outside the current state are walked back for one answer.</summary>
    private const int MaxBranchEventsWalked = 1_000;

    /// <summary>The state before <paramref name="stored"/> on its branch; not found when it lies beyond a gap of this server's.</summary>
    private async Task<ImmutableDictionary<StateEventKey, Pdu>> StateBeforeOnBranchAsync(RoomSnapshot snapshot, StoredEvent stored)
    {
        if (!IsOutsideState(stored)) return await HistoricalState.AtAsync(store, snapshot, stored.RoomPosition - 1, CancellationToken.None);
        var ids = await StateBeforeIdsAsync(new BranchWalk(snapshot), stored);
        var state = ImmutableDictionary.CreateBuilder<StateEventKey, Pdu>();
        foreach (var (key, eventId) in ids)
        {
            // The current state's copy where it is the same event, else the store's: a copy held in memory may predate a redaction.
            state[key] = snapshot.State.Get(key) is { } current && current.EventId == eventId
                ? current
                : await StoredEventOfRoomAsync(eventId.Value) ?? await LookUpEventOfRoomAsync(eventId.Value)
                  ?? throw MatrixRequestException.NotFound($"The state event {eventId} is not known here.");
        }
        return state.ToImmutable();
    }

    /// <summary>True for an event appended outside the room's current state (a fork, or an event of a gap).</summary>
    private static bool IsOutsideState(StoredEvent stored) => StoredEventJson.ReplacedCurrent(ToPdu(stored).Json) is not null;

    private sealed class BranchWalk(RoomSnapshot snapshot)
    {
        public RoomSnapshot Snapshot => snapshot;

        public Dictionary<string, ImmutableDictionary<StateEventKey, Identifiers.EventId>> StatesAfter { get; } = new(StringComparer.Ordinal);

        public int Walked { get; set; }
    }

    private async Task<ImmutableDictionary<StateEventKey, Identifiers.EventId>> StateBeforeIdsAsync(BranchWalk walk, StoredEvent stored)
    {
        if (!IsOutsideState(stored))
            return ForwardExtremity.IdsOf(await HistoricalState.AtAsync(store, walk.Snapshot, stored.RoomPosition - 1, CancellationToken.None));
        var pdu = ToPdu(stored);

        // A message event changes nothing: the state after it, when the room holds it, is the state before it.
        if (!pdu.IsState && KnownStateAfter(walk.Snapshot, stored.EventId) is { } known) return known;
        return await ResolvedPreviousStatesAsync(walk, pdu);
    }

    /// <summary>The resolution of the states after the event's previous events.</summary>
    private async Task<ImmutableDictionary<StateEventKey, Identifiers.EventId>> ResolvedPreviousStatesAsync(BranchWalk walk, Pdu pdu)
    {
        if (++walk.Walked > MaxBranchEventsWalked)
            throw MatrixRequestException.NotFound($"The state at {pdu.EventId} lies too far along its branch.");
        var prevStates = new List<IReadOnlyDictionary<StateEventKey, Identifiers.EventId>>();
        foreach (var prev in pdu.PrevEvents.Distinct(StringComparer.Ordinal)) prevStates.Add(await StateAfterIdsAsync(walk, prev));
        if (prevStates.Count == 0)
            throw MatrixRequestException.NotFound($"The state at {pdu.EventId} is not known here.");
        if (prevStates.Count == 1) return prevStates[0].ToImmutableDictionary();

        var version = walk.Snapshot.Version;
        var source = await StoredEventSource.LoadAsync(prevStates.SelectMany(s => s.Values).Distinct(),
            walk.Snapshot.State.Values, LookUpEventOfRoomAsync);
        return StateResolver.Resolve(version, prevStates, source).ToImmutableDictionary();
    }

    private async Task<ImmutableDictionary<StateEventKey, Identifiers.EventId>> StateAfterIdsAsync(BranchWalk walk, string eventId)
    {
        if (walk.StatesAfter.TryGetValue(eventId, out var walked)) return walked;
        var state = KnownStateAfter(walk.Snapshot, eventId) ?? await UnknownStateAfterAsync(walk, eventId);
        walk.StatesAfter[eventId] = state;
        return state;
    }

    private async Task<ImmutableDictionary<StateEventKey, Identifiers.EventId>> UnknownStateAfterAsync(BranchWalk walk, string eventId)
    {
        if (await StoredEventInRoomAsync(eventId) is { } stored)
            return (await StateBeforeIdsAsync(walk, stored)).SetItemIfState(ToPdu(stored));
        // A rejected event changes no state: the state after it is the state before it (RoomGrain.Rejections.cs).
        if (await RejectedEventOfRoomAsync(eventId) is { } rejected)
            return await ResolvedPreviousStatesAsync(walk, Pdu.Parse(Identifiers.EventId.Parse(eventId), rejected.Json));
        // An event of a gap (its own previous events never received) ends the walk: not found.
        throw MatrixRequestException.NotFound($"The state at {eventId} is not known here.");
    }
}
