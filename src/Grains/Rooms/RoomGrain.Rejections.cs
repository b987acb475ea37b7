using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Events another server sent that failed the authorization rules (docs/adr/0047). The spec: a rejected event is not
/// relayed to clients nor cited by this server's events, but other servers' events may cite it and are accepted if
/// they pass the rules against the state before them, computed as usual except that the rejected event changes
/// nothing. So it is kept as rejected: sent again, it is refused at once; cited, the state after it is the state before it.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>At most this many rejected events in a row are walked through to the state before them.</summary>
    private const int MaxRejectedChain = 10;

    private Task RememberRejectedAsync(BuiltEvent received, MatrixRequestException refused) =>
        store.Forks.StoreRejectedAsync(new RejectedEvent(received.EventId.Value, RoomId, received.Json, refused.Error), Clock(), CancellationToken.None);

    /// <summary>Throws the rejection again for an event of this room rejected before.</summary>
    private async Task RefuseIfRejectedBeforeAsync(Identifiers.EventId eventId)
    {
        if (await RejectedEventOfRoomAsync(eventId.Value) is { } rejected)
            throw EventRejection.Of($"The event was rejected before: {rejected.Reason}");
    }

    private async Task<RejectedEvent?> RejectedEventOfRoomAsync(string eventId)
    {
        if (!Identifiers.EventId.TryParse(eventId, out _)) return null;
        var rejected = await store.Forks.GetRejectedAsync(eventId, CancellationToken.None);
        return rejected is not null && rejected.RoomId == RoomId ? rejected : null;
    }

    /// <summary>
    /// The state after a previous event of a received event: known to the room, or, for a rejected event, the state
    /// before it, or else the origin's (<see cref="StateAfterFromOriginAsync"/>).
    /// </summary>
    private async Task<ImmutableDictionary<StateEventKey, Identifiers.EventId>> StateAfterPreviousAsync(
        string origin, string eventId, List<BuiltEvent> outliers, Dictionary<string, Pdu> fetched, int rejectedChain = 0)
    {
        if (KnownStateAfter(_writer.Current!, eventId) is { } known) return known;
        if (await RejectedEventOfRoomAsync(eventId) is not { } rejected) return await StateAfterFromOriginAsync(origin, eventId, outliers, fetched);
        if (rejectedChain >= MaxRejectedChain)
            throw MatrixRequestException.NotFound($"The previous event {eventId} follows more than {MaxRejectedChain} rejected events.");

        var pdu = Pdu.Parse(Identifiers.EventId.Parse(eventId), rejected.Json);
        var states = new List<IReadOnlyDictionary<StateEventKey, Identifiers.EventId>>();
        foreach (var prev in pdu.PrevEvents.Distinct(StringComparer.Ordinal))
            states.Add(await StateAfterPreviousAsync(origin, prev, outliers, fetched, rejectedChain + 1));
        if (states.Count == 0) throw MatrixRequestException.NotFound($"The rejected event {eventId} has no previous event.");
        if (states.Count == 1) return states[0].ToImmutableDictionary();
        var snapshot = _writer.Current!;
        var source = await StoredEventSource.LoadAsync(states.SelectMany(s => s.Values).Concat(outliers.Select(o => o.EventId)).Distinct(),
            snapshot.State.Values.Concat(outliers.Select(o => o.Pdu)), LookUpEventOfRoomAsync);
        return StateResolver.Resolve(snapshot.Version, states, source).ToImmutableDictionary();
    }
}
