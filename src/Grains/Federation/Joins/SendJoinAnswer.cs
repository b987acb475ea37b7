using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Federation.Joins;

/// <summary>
/// A room as a resident server's <c>send_join</c> answer describes it, checked: <paramref name="History"/> holds every
/// event of the auth chain and of the state, each after its own auth events, the auth-chain-only events first;
/// <paramref name="State"/> is the state before the join; <paramref name="Join"/> the join as the resident server
/// answered it (with its signature) or as this server sent it.
/// </summary>
public sealed record JoinedRoomCopy(
    RoomVersion Version, IReadOnlyList<BuiltEvent> History, IReadOnlyDictionary<StateEventKey, Pdu> State, BuiltEvent Join);

/// <summary>
/// Checks a <c>send_join</c> answer before anything of it is kept (server-server spec, "Joining rooms" and "Checks
/// performed on receipt of a PDU"): every event of <c>state</c> and <c>auth_chain</c> has the room version's format,
/// belongs to the room, carries valid signatures (checked by the caller's <c>verifySignatures</c>, which has the keys)
/// and a valid content hash, and passes the authorization rules against its own auth events, all of which the answer
/// must hold; the state has one event per slot, a create event of the room version, and allows the join. Any failure
/// refuses the whole answer (<see cref="MatrixRequestException"/>): a copy of the room is kept only when all is valid.
/// </summary>
public static class SendJoinAnswer
{
    public static async Task<JoinedRoomCopy> CheckAsync(
        RoomVersion version, string roomId, BuiltEvent sentJoin, ReadOnlyMemory<byte> body, Func<RoomVersion, JsonObject, Task> verifySignatures)
    {
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(body.Span) as JsonObject ?? throw Invalid("The answer is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw Invalid($"The answer is not valid JSON: {e.Message}");
        }
        if (answer["state"] is not JsonArray stateArray) throw Invalid("The answer has no state array.");
        if (answer["auth_chain"] is not JsonArray authChainArray) throw Invalid("The answer has no auth_chain array.");

        var join = await JoinOfAnswerAsync(version, sentJoin, answer["event"], verifySignatures);

        var events = new Dictionary<string, BuiltEvent>(StringComparer.Ordinal);
        var stateIds = new List<string>();
        foreach (var (array, isState) in new[] { (stateArray, true), (authChainArray, false) })
        {
            foreach (var node in array)
            {
                var received = await CheckEventAsync(version, roomId, node, verifySignatures);
                events.TryAdd(received.EventId.Value, received);
                if (isState) stateIds.Add(received.EventId.Value);
            }
        }
        if (events.ContainsKey(join.EventId.Value)) throw Invalid("The state before the join holds the join itself.");

        var ordered = AuthOrder(events);
        foreach (var e in ordered) RequireAllowedByAuthEvents(version, e.Pdu, events);
        RequireAllowedByAuthEvents(version, join.Pdu, events);

        var state = new Dictionary<StateEventKey, Pdu>();
        foreach (var id in stateIds)
        {
            var pdu = events[id].Pdu;
            if (pdu.StateKey is not { } stateKey) throw Invalid($"The state holds {id}, which is not a state event.");
            if (!state.TryAdd(new StateEventKey(pdu.Type, stateKey), pdu) && state[new StateEventKey(pdu.Type, stateKey)].EventId.Value != id)
                throw Invalid($"The state holds two events for ({pdu.Type}, {stateKey}).");
        }
        if (state.GetValueOrDefault(new StateEventKey(EventTypes.Create, "")) is not { } create)
            throw Invalid("The state has no m.room.create event.");
        var createdVersion = create.GetContentString("room_version") ?? "1";
        if (createdVersion != version.Id)
            throw Invalid($"The room was created with version {createdVersion}, not the {version.Id} make_join named.");
        var joinAuth = EventAuthorizer.Authorize(version, join.Pdu, state);
        if (!joinAuth.IsAllowed) throw Invalid($"The state does not allow the join: {joinAuth.Reason}");

        // Older events of a slot (only in the auth chain) before the slot's current event, so the last of each slot wins.
        var history = ordered.Where(e => !stateIds.Contains(e.EventId.Value))
            .Concat(ordered.Where(e => stateIds.Contains(e.EventId.Value)))
            .ToList();
        return new JoinedRoomCopy(version, history, state, join);
    }

    /// <summary>
    /// The join the answer gives back (the resident server may have signed it too), which must be the one sent; an
    /// answer without it leaves the join as sent.
    /// </summary>
    public static async Task<BuiltEvent> JoinOfAnswerAsync(RoomVersion version, BuiltEvent sent, ReadOnlyMemory<byte> body, Func<RoomVersion, JsonObject, Task> verifySignatures)
    {
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(body.Span) as JsonObject ?? throw Invalid("The answer is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw Invalid($"The answer is not valid JSON: {e.Message}");
        }
        return await JoinOfAnswerAsync(version, sent, answer["event"], verifySignatures);
    }

    private static async Task<BuiltEvent> JoinOfAnswerAsync(RoomVersion version, BuiltEvent sent, JsonNode? answered, Func<RoomVersion, JsonObject, Task> verifySignatures)
    {
        if (answered is null)
        {
            // A restricted join is valid only with the authorising server's signature, which the answer's event carries.
            if (sent.Pdu.Content.TryGetProperty("join_authorised_via_users_server", out _) && version.RestrictedJoinRule)
                throw Invalid("The answer lacks the join signed by the authorising server.");
            return sent;
        }
        if (answered is not JsonObject pdu) throw Invalid("The answer's event is not an object.");
        pdu = (JsonObject)pdu.DeepClone();
        pdu.Remove("unsigned");
        PduFormat.Check(version, pdu);
        if (EventIdOf(version, pdu) != sent.EventId || !ReceivedJoinEvent.HasValidContentHash(version, pdu)
            || pdu["hashes"]!["sha256"]!.GetValue<string>() != sent.Pdu.ContentHash)
            throw Invalid("The answer's event is not the join that was sent.");
        await verifySignatures(version, pdu);
        var json = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        return new BuiltEvent(sent.EventId, json, Pdu.Parse(sent.EventId, json));
    }

    private static async Task<BuiltEvent> CheckEventAsync(RoomVersion version, string roomId, JsonNode? node, Func<RoomVersion, JsonObject, Task> verifySignatures)
    {
        if (node is not JsonObject original) throw Invalid("An event of the answer is not an object.");
        var pdu = (JsonObject)original.DeepClone();
        pdu.Remove("unsigned");
        PduFormat.Check(version, pdu);
        var eventId = EventIdOf(version, pdu) ?? throw Invalid("An event of the answer has no valid event ID.");
        if (pdu["room_id"]!.GetValue<string>() != roomId) throw Invalid($"The event {eventId} is not of the room {roomId}.");
        try
        {
            await verifySignatures(version, pdu);
        }
        catch (MatrixRequestException e)
        {
            throw Invalid($"The event {eventId}: {e.Error}");
        }
        // Unlike an event of a transaction, a state event is not taken redacted: the copy of the room must be the room.
        if (!ReceivedJoinEvent.HasValidContentHash(version, pdu))
            throw Invalid($"The content hash of the event {eventId} does not match its content.");
        var json = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        return new BuiltEvent(eventId, json, Pdu.Parse(eventId, json));
    }

    /// <summary>Every event after its auth events; an auth event the answer lacks, or a cycle, refuses the answer.</summary>
    private static List<BuiltEvent> AuthOrder(Dictionary<string, BuiltEvent> events)
    {
        var ordered = new List<BuiltEvent>(events.Count);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        // Oldest first, so that the order is the room's where the auth events leave it open.
        foreach (var start in events.Values.OrderBy(Depth).ThenBy(e => e.EventId.Value, StringComparer.Ordinal))
        {
            if (done.Contains(start.EventId.Value)) continue;
            var stack = new Stack<(BuiltEvent Event, int Next)>();
            stack.Push((start, 0));
            visiting.Add(start.EventId.Value);
            while (stack.TryPop(out var frame))
            {
                var authEvents = frame.Event.Pdu.AuthEvents;
                if (frame.Next < authEvents.Count)
                {
                    stack.Push(frame with { Next = frame.Next + 1 });
                    var id = authEvents[frame.Next];
                    if (done.Contains(id)) continue;
                    if (!events.TryGetValue(id, out var authEvent))
                        throw Invalid($"The auth event {id} of {frame.Event.EventId} is not in the answer.");
                    if (!visiting.Add(id)) throw Invalid($"The auth events of {frame.Event.EventId} form a cycle.");
                    stack.Push((authEvent, 0));
                    continue;
                }
                visiting.Remove(frame.Event.EventId.Value);
                if (done.Add(frame.Event.EventId.Value)) ordered.Add(frame.Event);
            }
        }
        return ordered;
    }

    /// <summary>The spec's check against the event's own auth events: state events, one per slot, that allow it.</summary>
    private static void RequireAllowedByAuthEvents(RoomVersion version, Pdu pdu, Dictionary<string, BuiltEvent> events)
    {
        var authState = new Dictionary<StateEventKey, Pdu>();
        foreach (var id in pdu.AuthEvents)
        {
            var authEvent = events.TryGetValue(id, out var known) ? known.Pdu : throw Invalid($"The auth event {id} of {pdu.EventId} is not in the answer.");
            if (authEvent.StateKey is not { } stateKey) throw Invalid($"The auth event {id} of {pdu.EventId} is not a state event.");
            if (!authState.TryAdd(new StateEventKey(authEvent.Type, stateKey), authEvent))
                throw Invalid($"The auth events of {pdu.EventId} hold two events for ({authEvent.Type}, {stateKey}).");
        }
        var auth = EventAuthorizer.Authorize(version, pdu, authState);
        if (!auth.IsAllowed) throw Invalid($"The event {pdu.EventId} is not allowed by its auth events: {auth.Reason}");
    }

    private static long Depth(BuiltEvent e) => e.Pdu.Json.TryGetProperty("depth", out var depth) && depth.TryGetInt64(out var value) ? value : 0;

    private static EventId? EventIdOf(RoomVersion version, JsonObject pdu)
    {
        try
        {
            return EventHashing.ComputeEventId(version, pdu);
        }
        catch (Exception e) when (e is ArgumentException or CanonicalJsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static MatrixRequestException Invalid(string message) => MatrixRequestException.InvalidParam(message);
}
