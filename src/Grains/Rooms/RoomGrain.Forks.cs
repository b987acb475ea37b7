using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Events of other servers that do not follow every forward extremity of the room: forks, merges of some branches,
/// and events after a gap this server cannot fill. The state before such an event is the resolution of the states
/// after its previous events; the room's current state the resolution of the states after its extremities. An event
/// that passes the first but not the room's current state is soft-failed. See docs/adr/0041-forks-and-state-resolution.md.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>How many recent events' states-after the room keeps in memory for forks from them.</summary>
    private const int StatesAfterKept = 256;

    /// <summary>At most this many events of the state at a gap are fetched from the origin for one event.</summary>
    private const int MaxGapEventsFetched = 100;

    private const int MaxForkAttempts = 5;

    private const int EventCacheSize = 4096;

    private readonly object _statesAfterGate = new();
    private readonly Dictionary<string, ImmutableDictionary<StateEventKey, Pdu>> _statesAfter = new(StringComparer.Ordinal);
    private readonly Queue<string> _statesAfterOrder = new();
    private readonly Dictionary<string, Pdu> _eventCache = new(StringComparer.Ordinal);

    /// <summary>Keeps the state after each committed event (shared immutable maps: a reference each).</summary>
    private void RememberStatesAfter(IReadOnlyList<(Identifiers.EventId EventId, ImmutableDictionary<StateEventKey, Pdu> State)> statesAfter)
    {
        lock (_statesAfterGate)
        {
            foreach (var (eventId, state) in statesAfter) RememberStateAfterLocked(eventId.Value, state);
        }
    }

    private void RememberStateAfterLocked(string eventId, ImmutableDictionary<StateEventKey, Pdu> state)
    {
        if (_statesAfter.TryAdd(eventId, state)) _statesAfterOrder.Enqueue(eventId);
        while (_statesAfterOrder.Count > StatesAfterKept) _statesAfter.Remove(_statesAfterOrder.Dequeue());
    }

    /// <summary>True when the event's previous events are exactly the room's extremities: the linear path applies.</summary>
    private static bool FollowsAllExtremities(RoomSnapshot snapshot, Pdu pdu)
    {
        if (!snapshot.IsForked)
            return pdu.PrevEvents.Count == 1 && snapshot.LastEventId is { } last && pdu.PrevEvents[0] == last.Value;
        return pdu.PrevEvents.Count == snapshot.Extremities.Count
               && snapshot.Extremities.All(e => pdu.PrevEvents.Contains(e.EventId.Value));
    }

    /// <summary>The room's extremities, the newest event with the current state while the room is linear.</summary>
    private static ImmutableList<ForwardExtremity> ExtremitiesOf(RoomSnapshot snapshot) =>
        snapshot.IsForked || snapshot.LastEventId is not { } last
            ? snapshot.Extremities
            : [new ForwardExtremity(last, snapshot.Depth, snapshot.LastEventContentHash, ForwardExtremity.IdsOf(snapshot.State))];

    /// <summary>
    /// Accepts an event that forks the room or merges some of its branches: resolves the state before it, checks it
    /// against that state (rejected: nothing stored) and against the current state (soft-failed: kept aside, not in
    /// the timeline), then appends it and makes the resolution of the extremities' states the current state.
    /// </summary>
    private async Task AcceptOnForkAsync(string origin, BuiltEvent received, Pdu? redacted)
    {
        var pdu = received.Pdu;
        var version = _writer.Current!.Version;
        var outliers = new List<BuiltEvent>();
        var fetched = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        var prevStates = new List<ImmutableDictionary<StateEventKey, Identifiers.EventId>>();
        foreach (var prev in pdu.PrevEvents.Distinct(StringComparer.Ordinal))
            prevStates.Add(await StateAfterPreviousAsync(origin, prev, outliers, fetched)); // see RoomGrain.Rejections.cs
        // After a gap the event may cite auth events from it (a member event the gap changed): fetched and checked too.
        foreach (var authId in pdu.AuthEvents)
        {
            if (outliers.Any(o => o.EventId.Value == authId) || await LookUpEventOfRoomAsync(authId) is not null) continue;
            await KnownOrFetchedAsync(origin, version, authId, outliers, fetched, includeInState: true);
        }
        await AuthoriseByAuthEventsAsync(_writer.Current!, pdu, outliers);

        for (var attempt = 1; ; attempt++)
        {
            var plan = await PlanForkAsync(_writer.Current!, received, prevStates, outliers);
            if (plan is null) return; // Soft-failed.
            try
            {
                await _writer.SubmitAsync(builder =>
                {
                    builder.AddReceivedOnFork(received, plan, redacted);
                    return received.EventId.Value;
                });
                return;
            }
            catch (StaleForkException) when (attempt < MaxForkAttempts)
            {
                // A local event or another server's was appended meanwhile: resolve against the new extremities.
            }
            catch (StaleForkException)
            {
                // A busy room: the transaction fails as a temporary failure, so its origin sends it again later.
                throw new RoomBusyException("The room kept changing while a forked event was resolved against it.");
            }
        }
    }

    /// <summary>The state after an event, when the room knows it without asking: an extremity's, or a recent event's.</summary>
    private ImmutableDictionary<StateEventKey, Identifiers.EventId>? KnownStateAfter(RoomSnapshot snapshot, string eventId)
    {
        if (!snapshot.IsForked && snapshot.LastEventId?.Value == eventId) return ForwardExtremity.IdsOf(snapshot.State);
        if (snapshot.Extremities.FirstOrDefault(e => e.EventId.Value == eventId) is { } extremity) return extremity.StateAfter;
        lock (_statesAfterGate)
        {
            return _statesAfter.TryGetValue(eventId, out var state) ? ForwardExtremity.IdsOf(state) : null;
        }
    }

    /// <returns>The plan, or null when the event was soft-failed (and kept aside).</returns>
    private async Task<ForkPlan?> PlanForkAsync(RoomSnapshot snapshot, BuiltEvent received,
        IReadOnlyList<ImmutableDictionary<StateEventKey, Identifiers.EventId>> prevStates, IReadOnlyList<BuiltEvent> outliers)
    {
        var version = snapshot.Version;
        var pdu = received.Pdu;
        var extremities = ExtremitiesOf(snapshot);
        var roots = prevStates.SelectMany(s => s.Values)
            .Concat(extremities.SelectMany(e => e.StateAfter.Values))
            .Concat(pdu.AuthEvents.Select(Identifiers.EventId.Parse))
            .Concat(outliers.Select(o => o.EventId))
            .Append(pdu.EventId)
            .Distinct();
        var source = await StoredEventSource.LoadAsync(roots,
            snapshot.State.Values.Concat(outliers.Select(o => o.Pdu)).Append(pdu), LookUpEventOfRoomAsync);

        var beforeIds = StateResolver.Resolve(version, prevStates.Cast<IReadOnlyDictionary<StateEventKey, Identifiers.EventId>>().ToList(), source);
        var stateBefore = PdusOf(beforeIds, snapshot, source);
        var auth = EventAuthorizer.Authorize(version, pdu, stateBefore);
        if (!auth.IsAllowed) throw EventRejection.Of(auth.Reason!);

        if (!EventAuthorizer.Authorize(version, pdu, snapshot.State).IsAllowed)
        {
            await store.Forks.StoreSoftFailedAsync(new SoftFailedEvent(received.EventId.Value, RoomId, received.Json), Clock(), CancellationToken.None);
            lock (_statesAfterGate) RememberStateAfterLocked(received.EventId.Value, stateBefore.SetItemIfState(pdu));
            logger.LogInformation("Event {EventId} of {RoomId} soft-failed: allowed by the state before it, not by the current state", received.EventId, RoomId);
            return null;
        }

        var afterEvent = beforeIds.ToImmutableDictionary().SetItemIfState(pdu);
        var extremitiesAfter = extremities.RemoveAll(e => pdu.PrevEvents.Contains(e.EventId.Value)).Add(ForwardExtremity.Of(pdu, afterEvent));
        var currentIds = StateResolver.Resolve(version,
            extremitiesAfter.Select(e => (IReadOnlyDictionary<StateEventKey, Identifiers.EventId>)e.StateAfter).ToList(), source);
        return new ForkPlan(extremities.Select(e => e.EventId.Value).ToHashSet(StringComparer.Ordinal), stateBefore, afterEvent,
            PdusOf(currentIds, snapshot, source), extremitiesAfter, outliers);
    }

    /// <summary>The events of a resolved state; the current state's stored copies where it holds the same event.</summary>
    private static ImmutableDictionary<StateEventKey, Pdu> PdusOf(
        IReadOnlyDictionary<StateEventKey, Identifiers.EventId> ids, RoomSnapshot snapshot, IEventSource source)
    {
        var state = ImmutableDictionary.CreateBuilder<StateEventKey, Pdu>();
        foreach (var (key, eventId) in ids)
        {
            if (snapshot.State.Get(key) is { } current && current.EventId == eventId) state[key] = current;
            else if (source.TryGet(eventId, out var pdu)) state[key] = pdu;
            else throw MatrixRequestException.NotFound($"The state event {eventId} is not known here.");
        }
        return state.ToImmutable();
    }

    /// <summary>An event of this room by id: in the timeline, soft-failed, or read before.</summary>
    private async Task<Pdu?> LookUpEventOfRoomAsync(string eventId)
    {
        if (_eventCache.TryGetValue(eventId, out var cached)) return cached;
        var pdu = await StoredEventOfRoomAsync(eventId);
        if (pdu is null && Identifiers.EventId.TryParse(eventId, out var parsed)
            && await store.Forks.GetSoftFailedAsync(eventId, CancellationToken.None) is { } softFailed && softFailed.RoomId == RoomId)
            pdu = Pdu.Parse(parsed, softFailed.Json);
        if (pdu is null) return null;
        if (_eventCache.Count >= EventCacheSize) _eventCache.Clear();
        _eventCache[eventId] = pdu;
        return pdu;
    }

    /// <summary>
    /// The state after an event the room holds no state for (an older event, or one beyond a gap): the origin's
    /// <c>/state_ids</c> at it, plus the event itself if it is a state event. Events of that state this server does not
    /// hold are fetched with <c>/event</c> and checked as PDUs (format, signatures, content hash, auth events); they are
    /// added to <paramref name="outliers"/> to be appended with the event.
    /// </summary>
    private async Task<ImmutableDictionary<StateEventKey, Identifiers.EventId>> StateAfterFromOriginAsync(
        string origin, string eventId, List<BuiltEvent> outliers, Dictionary<string, Pdu> fetched)
    {
        var version = _writer.Current!.Version;
        var body = await FederationGetAsync(origin,
            $"/_matrix/federation/v1/state_ids/{Uri.EscapeDataString(RoomId)}?event_id={Uri.EscapeDataString(eventId)}")
            ?? throw MatrixRequestException.NotFound($"The previous event {eventId} is not known here, nor could the state at it be had from {origin}.");
        if (body["pdu_ids"] is not JsonArray pduIds || pduIds.Count > 10_000)
            throw MatrixRequestException.NotFound($"{origin} answered no state at {eventId}.");

        var state = ImmutableDictionary.CreateBuilder<StateEventKey, Identifiers.EventId>();
        foreach (var node in pduIds)
        {
            var id = node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
            var pdu = id is null ? null : await KnownOrFetchedAsync(origin, version, id, outliers, fetched, includeInState: true);
            if (pdu?.StateKey is not { } stateKey) throw MatrixRequestException.NotFound($"{origin} named an event of the state at {eventId} that is not a state event of the room.");
            state[new StateEventKey(pdu.Type, stateKey)] = pdu.EventId;
        }
        var prev = await KnownOrFetchedAsync(origin, version, eventId, outliers, fetched, includeInState: false)
                   ?? throw MatrixRequestException.NotFound($"The previous event {eventId} could not be had from {origin}.");
        var after = state.ToImmutable().SetItemIfState(prev);
        if (prev.IsState && !outliers.Any(o => o.EventId == prev.EventId) && await LookUpEventOfRoomAsync(eventId) is null)
            outliers.Add(new BuiltEvent(prev.EventId, CanonicalJson.Encode(JsonObject.Create(prev.Json)!, version.StrictCanonicalJson), prev));
        return after;
    }

    /// <summary>An event of the room this server holds, or one fetched from the origin and checked (with its auth events first).</summary>
    private async Task<Pdu?> KnownOrFetchedAsync(string origin, Identifiers.RoomVersion version, string eventId,
        List<BuiltEvent> outliers, Dictionary<string, Pdu> fetched, bool includeInState)
    {
        if (fetched.TryGetValue(eventId, out var done)) return done;
        if (outliers.FirstOrDefault(o => o.EventId.Value == eventId) is { } outlier) return outlier.Pdu;
        if (await LookUpEventOfRoomAsync(eventId) is { } known) return known;
        if (fetched.Count >= MaxGapEventsFetched) throw MatrixRequestException.NotFound($"The state at a gap needs more than {MaxGapEventsFetched} events this server does not hold.");
        if (!Identifiers.EventId.TryParse(eventId, out _)) return null;

        var body = await FederationGetAsync(origin, $"/_matrix/federation/v1/event/{Uri.EscapeDataString(eventId)}");
        if (body?["pdus"] is not JsonArray { Count: 1 } pdus || pdus[0] is not JsonObject raw) return null;
        raw = (JsonObject)raw.DeepClone();
        raw.Remove("unsigned");
        if (EventIdOf(version, raw) is not { } id || id.Value != eventId) return null;
        PduFormat.Check(version, raw);
        if (raw["room_id"]?.GetValue<string>() != RoomId) return null;
        var built = await VerifiedAsync(version, id, raw);
        fetched[eventId] = built.Pdu; // Before its auth events: a cycle of auth events ends here.

        var authState = new Dictionary<StateEventKey, Pdu>();
        foreach (var authId in built.Pdu.AuthEvents)
        {
            var authEvent = await KnownOrFetchedAsync(origin, version, authId, outliers, fetched, includeInState: true)
                            ?? throw MatrixRequestException.Forbidden($"The auth event {authId} of {eventId} could not be had.");
            if (authEvent.StateKey is { } key) authState[new StateEventKey(authEvent.Type, key)] = authEvent;
        }
        var auth = EventAuthorizer.Authorize(version, built.Pdu, authState);
        if (!auth.IsAllowed) throw MatrixRequestException.Forbidden($"The event {eventId} of the state at a gap is rejected: {auth.Reason}");
        if (includeInState && built.Pdu.IsState) outliers.Add(built);
        return built.Pdu;
    }

    private async Task<JsonNode?> FederationGetAsync(string destination, string pathAndQuery)
    {
        try
        {
            var response = await ServiceProvider.GetRequiredService<Federation.Transport.FederationClient>()
                .SendAsync(destination, HttpMethod.Get, pathAndQuery, null, CancellationToken.None);
            return response.IsSuccess ? JsonNode.Parse(response.Body) : null;
        }
        catch (Exception e) when (e is Federation.Transport.FederationRequestException or JsonException)
        {
            logger.LogInformation(e, "{Path} could not be had from {Destination}", pathAndQuery, destination);
            return null;
        }
    }
}
