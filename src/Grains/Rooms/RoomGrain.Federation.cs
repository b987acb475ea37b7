using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The room as other servers see it: a user of another server joins through <c>make_join</c>/<c>send_join</c>, and
/// servers with a joined member read events and state. The origin is the server that signed the request; the gateway
/// authenticated it. See docs/adr/0034-inbound-federated-joins.md.
/// </summary>
public sealed partial class RoomGrain
{
    public async Task<MakeJoinResult> MakeJoinAsync(string origin, string userId, IReadOnlyList<string> supportedVersions)
    {
        if (origin == server.Name) throw MatrixRequestException.Forbidden("This server's own users do not join over federation.");
        var snapshot = RequireAllowedByAcl(origin);
        if (!UserId.TryParse(userId, out var user)) throw MatrixRequestException.InvalidParam($"'{userId}' is not a user ID.");
        if (user.Server.ToString() != origin) throw MatrixRequestException.Forbidden($"{userId} is not a user of {origin}.");
        if (!supportedVersions.Contains(snapshot.Version.Id)) return new MakeJoinResult(snapshot.Version.Id, null);
        var authoriser = await RestrictedJoinAuthoriserForRemoteAsync(snapshot, userId); // see RoomGrain.RestrictedJoins.cs
        // The room may have changed while the allowed rooms were asked.
        snapshot = RequireAllowedByAcl(origin);
        return new MakeJoinResult(snapshot.Version.Id, MembershipTemplate(snapshot, user, Membership.Join, authoriser));
    }

    /// <summary>
    /// The <c>make_join</c>/<c>make_leave</c> answer: the member event the user's server is to fill in and sign (the
    /// newest event as its only previous event, the auth events its type needs), and the room version. The auth rules
    /// judge it as that server will build it (403 if they refuse); the id is only a name for their messages.
    /// </summary>
    private byte[] MembershipTemplate(RoomSnapshot snapshot, UserId user, string membership, string? joinAuthoriser = null)
    {
        var version = snapshot.Version;
        var userId = user.ToString();
        var content = new JsonObject { ["membership"] = membership };
        if (joinAuthoriser is not null) content["join_authorised_via_users_server"] = joinAuthoriser;
        var authEvents = AuthEventSelector.Select(EventTypes.Member, userId, user, content, snapshot.State);
        var template = new JsonObject
        {
            ["auth_events"] = References(snapshot, authEvents),
            ["content"] = content,
            ["depth"] = snapshot.Depth + 1,
            ["origin"] = server.Name,
            ["origin_server_ts"] = Clock(),
            ["prev_events"] = References(snapshot, snapshot.IsForked
                ? Forks.ForwardExtremity.Cited(snapshot.Extremities).Select(e => e.EventId).ToList()
                : snapshot.LastEventId is { } last ? [last] : []),
            ["room_id"] = RoomId,
            ["sender"] = userId,
            ["state_key"] = userId,
            ["type"] = EventTypes.Member,
        };

        var judged = template;
        if (joinAuthoriser is not null)
        {
            // This server signs the join as its authoriser at send_join; the rules are to judge it as it will be then.
            judged = (JsonObject)template.DeepClone();
            judged["signatures"] = new JsonObject { [server.Name] = new JsonObject { [signingKey.Current.KeyId] = "" } };
        }
        var candidate = new Pdu(Identifiers.EventId.Opaque("template", server.Name), JsonSerializer.SerializeToElement(judged));
        var auth = EventAuthorizer.Authorize(version, candidate, snapshot.State);
        if (!auth.IsAllowed) throw MatrixRequestException.Forbidden(auth.Reason!);

        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("event");
            template.WriteTo(writer);
            writer.WriteString("room_version", version.Id);
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> SendJoinAsync(SendJoinRequest request)
    {
        // Users of this server join through the client API; an event of theirs never comes in over federation.
        if (request.Origin == server.Name) throw MatrixRequestException.Forbidden("This server's own users do not join over federation.");
        var snapshot = RequireAllowedByAcl(request.Origin);
        var version = snapshot.Version;
        var sent = await CheckSentMembershipAsync(snapshot, request, Membership.Join,
            pdu => AuthoriseReceivedRestrictedJoinAsync(snapshot, pdu)); // see RoomGrain.RestrictedJoins.cs
        if (sent.Known is { } known)
        {
            // The joining server did not get our answer and asks again.
            var stateBefore = await HistoricalState.AtAsync(store, snapshot, known.RoomPosition - 1, CancellationToken.None);
            return await SendJoinResponseAsync(stateBefore, ToPdu(known));
        }
        await AuthoriseByAuthEventsAsync(snapshot, sent.Received);

        var signed = SignAsResident(version, sent);
        ImmutableDictionary<StateEventKey, Pdu> before = snapshot.State;
        await _writer.SubmitAsync(builder =>
        {
            before = builder.State;
            builder.AddReceived(signed);
            return signed.EventId.Value;
        });
        return await SendJoinResponseAsync(before, signed.Pdu);
    }

    /// <summary>
    /// The checks send_join, send_leave and send_knock share: a member event of its sender with that membership, of a
    /// user of the origin, for this room (<see cref="ReceivedJoinEvent"/>), signed by every server that must sign it, its
    /// content hash intact. The spec lets a server redact an event whose hash fails and go on with the redacted copy;
    /// these events are built by their sender's server for this one request, so a mismatch means a broken or altered
    /// event: refused. <see cref="SentMembership.Known"/> is the stored event when it is in the room already (the
    /// sending server did not get the answer and asks again).
    /// </summary>
    /// <param name="beforeSignatures">Runs on the event before its signatures are checked (a restricted join's authoriser signs it).</param>
    private async Task<SentMembership> CheckSentMembershipAsync(
        RoomSnapshot snapshot, SendJoinRequest request, string membership, Func<JsonObject, Task>? beforeSignatures = null)
    {
        var version = snapshot.Version;
        var (eventId, pdu) = ReceivedJoinEvent.Check(version, RoomId, request.Origin, request.EventId, request.Event, membership);
        if (beforeSignatures is not null) await beforeSignatures(pdu);

        await VerifySignaturesAsync(version, pdu);
        if (!ReceivedJoinEvent.HasValidContentHash(version, pdu))
            throw MatrixRequestException.InvalidParam("The event's content hash does not match its content.");

        var received = Pdu.Parse(eventId, CanonicalJson.Encode(pdu, version.StrictCanonicalJson));
        var known = await store.Events.GetEventAsync(eventId.Value, CancellationToken.None);
        // In room versions 1 and 2 the id is the sender's choice: it must name this very event, not any event.
        if (known is not null
            && (known.RoomId != RoomId || known.Type != EventTypes.Member || known.StateKey != received.Sender.Value || known.Sender != received.Sender.Value))
            throw MatrixRequestException.InvalidParam("The event id names another event.");
        return new SentMembership(eventId, pdu, received, known);
    }

    /// <summary>The event with the resident server's signature added; it changes neither hash nor event id.</summary>
    private BuiltEvent SignAsResident(RoomVersion version, SentMembership sent)
    {
        EventSigning.Sign(version, sent.Json, signingKey.Current);
        var json = CanonicalJson.Encode(sent.Json, version.StrictCanonicalJson);
        return new BuiltEvent(sent.EventId, json, Pdu.Parse(sent.EventId, json));
    }

    private sealed record SentMembership(Identifiers.EventId EventId, JsonObject Json, Pdu Received, StoredEvent? Known);

    public async Task<byte[]> GetEventForServerAsync(string origin, string eventId)
    {
        var snapshot = RequireServerInRoom(origin);
        var stored = await RequireEventInRoomAsync(eventId);
        var history = await GetHistoryAsync(snapshot);
        var visible = history.UsersWithMembership
            .Where(user => UserId.TryParse(user, out var parsed) && parsed.Server.ToString() == origin)
            .Any(user => history.CanSee(user, snapshot.IsJoined(user), stored.RoomPosition, stored.Type, stored.StateKey));
        var pdu = visible ? ToPdu(stored).Json : JsonSerializer.SerializeToElement(EventRedactor.Redact(snapshot.Version, ToPdu(stored).Json));
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("origin", server.Name);
            writer.WriteNumber("origin_server_ts", Clock());
            writer.WriteStartArray("pdus");
            WriteFederationEvent(writer, pdu);
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetStateForServerAsync(string origin, string eventId, bool idsOnly)
    {
        var snapshot = RequireServerInRoom(origin);
        var stored = await RequireEventInRoomAsync(eventId);
        var state = await StateBeforeOnBranchAsync(snapshot, stored);
        var stateEvents = SortedState(state.Values).ToList();
        var authChain = await AuthChainAsync(stateEvents, state);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            if (idsOnly)
            {
                WriteIds(writer, "auth_chain_ids", authChain);
                WriteIds(writer, "pdu_ids", stateEvents);
            }
            else
            {
                WriteFederationEvents(writer, "auth_chain", authChain);
                WriteFederationEvents(writer, "pdus", stateEvents);
            }
            writer.WriteEndObject();
        });
    }

    private RoomSnapshot RequireServerInRoom(string origin)
    {
        var snapshot = RequireAllowedByAcl(origin);
        var suffix = ":" + origin;
        return snapshot.JoinedMembers.Any(member => member.EndsWith(suffix, StringComparison.Ordinal))
            ? snapshot
            : throw MatrixRequestException.Forbidden($"{origin} has no member joined in this room.");
    }

    public Task<bool> AllowsServerAsync(string server)
    {
        var snapshot = _writer.Current is { Exists: true } s ? s : throw MatrixRequestException.NotFound("Unknown room.");
        return Task.FromResult(ServerAcl.Allows(snapshot.State, server));
    }

    /// <summary>The room, if the server making the request is not denied by its <c>m.room.server_acl</c> (403 if it is).</summary>
    private RoomSnapshot RequireAllowedByAcl(string origin)
    {
        var snapshot = _writer.Current is { Exists: true } s ? s : throw MatrixRequestException.NotFound("Unknown room.");
        return ServerAcl.Allows(snapshot.State, origin)
            ? snapshot
            : throw MatrixRequestException.Forbidden($"{origin} is denied by the room's server access control list.");
    }

    /// <summary>
    /// Every server whose signature the event needs must have signed it with a key it publishes (for
    /// room version 5 and later valid when the event was sent); each is asked of the keys grain of that server.
    /// </summary>
    private async Task VerifySignaturesAsync(RoomVersion version, JsonObject pdu)
    {
        var signers = EventSigning.RequiredSigners(version, pdu)
                      ?? throw MatrixRequestException.InvalidParam("The event does not name the servers that must sign it.");
        var sentAt = pdu["origin_server_ts"]!.GetValue<long>();
        foreach (var signer in signers)
        {
            if (pdu["signatures"]?[signer] is not JsonObject signatures)
                throw MatrixRequestException.InvalidParam($"The event is not signed by {signer}.");
            var verified = false;
            foreach (var keyId in signatures.Select(entry => entry.Key).Where(k => k.StartsWith(ServerSigningKey.Algorithm + ":", StringComparison.Ordinal)))
            {
                var publicKey = signer == server.Name
                    ? keyId == signingKey.Current.KeyId ? signingKey.Current.PublicKey : null
                    : await GrainFactory.GetGrain<IRemoteServerKeysGrain>(signer).GetVerifyKeyAsync(keyId, sentAt);
                if (publicKey is not null && EventSigning.Verify(version, pdu, signer, keyId, publicKey))
                {
                    verified = true;
                    break;
                }
            }
            if (!verified) throw MatrixRequestException.InvalidParam($"The signature of {signer} on the event does not verify.");
        }
    }

    /// <summary>
    /// The spec's check against the event's own auth events: each must be an event of this room, a state event of a
    /// slot the auth events selection asks for, at most one per slot; the authorization rules must pass on them.
    /// (The check against the state before the event, which here is the current state, runs when it is appended.)
    /// </summary>
    /// <param name="fetched">Events of the room fetched for this one that are not stored yet (the state at a gap).</param>
    private async Task AuthoriseByAuthEventsAsync(RoomSnapshot snapshot, Pdu pdu, IReadOnlyList<BuiltEvent>? fetched = null)
    {
        var wanted = AuthEventSelector.RequiredStateKeys(pdu.Type, pdu.StateKey, pdu.Sender, JsonObject.Create(pdu.Content)!);
        var inState = snapshot.State.Values.ToDictionary(e => e.EventId.Value);
        var authState = new Dictionary<StateEventKey, Pdu>();
        foreach (var id in pdu.AuthEvents)
        {
            var authEvent = inState.GetValueOrDefault(id) ?? fetched?.FirstOrDefault(e => e.EventId.Value == id)?.Pdu ?? await StoredEventOfRoomAsync(id)
                ?? throw (await RejectedEventOfRoomAsync(id) is not null // see RoomGrain.Rejections.cs
                    ? EventRejection.Of($"The auth event {id} was rejected.")
                    : MatrixRequestException.Forbidden($"The auth event {id} is not an event of this room."));
            if (authEvent.StateKey is not { } stateKey || !wanted.Contains(new StateEventKey(authEvent.Type, stateKey)))
                throw EventRejection.Of($"The auth event {id} is not one the event's auth needs.");
            if (!authState.TryAdd(new StateEventKey(authEvent.Type, stateKey), authEvent))
                throw EventRejection.Of($"The auth events hold two events for ({authEvent.Type}, {stateKey}).");
        }
        var auth = EventAuthorizer.Authorize(snapshot.Version, pdu, authState);
        if (!auth.IsAllowed) throw EventRejection.Of(auth.Reason!);
    }

    private async Task<Pdu?> StoredEventOfRoomAsync(string eventId)
    {
        if (!Identifiers.EventId.TryParse(eventId, out _)) return null;
        var stored = await store.Events.GetEventAsync(eventId, CancellationToken.None);
        return stored is not null && stored.RoomId == RoomId ? ToPdu(stored) : null;
    }

    /// <summary>
    /// The send_join answer: the state before the join, the auth chain of the join and of that state, the join as
    /// this server signed and stored it, and the servers with joined members before the join (this one included).
    /// </summary>
    private async Task<byte[]> SendJoinResponseAsync(ImmutableDictionary<StateEventKey, Pdu> stateBefore, Pdu join)
    {
        var stateEvents = SortedState(stateBefore.Values).ToList();
        var authChain = await AuthChainAsync([.. stateEvents, join], stateBefore);
        var servers = stateBefore.Where(e => e.Key.Type == EventTypes.Member && e.Value.GetContentString("membership") == Membership.Join)
            .Select(e => UserId.TryParse(e.Key.StateKey, out var user) ? user.Server.ToString() : null)
            .OfType<string>()
            .Append(server.Name)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            WriteFederationEvents(writer, "auth_chain", authChain);
            writer.WritePropertyName("event");
            WriteFederationEvent(writer, join.Json);
            writer.WriteBoolean("members_omitted", false);
            writer.WriteString("origin", server.Name);
            writer.WriteStartArray("servers_in_room");
            foreach (var name in servers) writer.WriteStringValue(name);
            writer.WriteEndArray();
            WriteFederationEvents(writer, "state", stateEvents);
            writer.WriteEndObject();
        });
    }

    /// <summary>Every event reachable through <c>auth_events</c> from <paramref name="events"/>, in the order found.</summary>
    private async Task<List<Pdu>> AuthChainAsync(IReadOnlyList<Pdu> events, IReadOnlyDictionary<StateEventKey, Pdu> state)
    {
        var known = state.Values.ToDictionary(e => e.EventId.Value);
        var chain = new List<Pdu>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(events.SelectMany(e => e.AuthEvents));
        while (pending.TryDequeue(out var id))
        {
            if (!seen.Add(id)) continue;
            var authEvent = known.GetValueOrDefault(id) ?? await StoredEventOfRoomAsync(id);
            if (authEvent is null) continue; // Every stored event's auth events are stored; nothing else to answer with.
            chain.Add(authEvent);
            foreach (var next in authEvent.AuthEvents) pending.Enqueue(next);
        }
        return chain;
    }

    /// <summary>The auth events and previous events a template cites: ids, with content hashes in room versions 1 and 2.</summary>
    private static JsonArray References(RoomSnapshot snapshot, IReadOnlyList<Identifiers.EventId> ids)
    {
        if (!snapshot.Version.EventIdInEvent) return new JsonArray(ids.Select(id => (JsonNode)id.Value).ToArray());
        string HashOf(Identifiers.EventId id) =>
            (id == snapshot.LastEventId ? snapshot.LastEventContentHash : null)
            ?? snapshot.Extremities.FirstOrDefault(e => e.EventId == id)?.ContentHash
            ?? snapshot.State.Values.FirstOrDefault(e => e.EventId == id)?.ContentHash
            ?? throw new InvalidOperationException($"The content hash of {id} is not known.");
        return new JsonArray(ids.Select(id => (JsonNode)new JsonArray(id.Value, new JsonObject { ["sha256"] = HashOf(id) })).ToArray());
    }

    private static void WriteIds(Utf8JsonWriter writer, string name, IEnumerable<Pdu> events)
    {
        writer.WriteStartArray(name);
        foreach (var e in events) writer.WriteStringValue(e.EventId.Value);
        writer.WriteEndArray();
    }

    private static void WriteFederationEvents(Utf8JsonWriter writer, string name, IEnumerable<Pdu> events)
    {
        writer.WriteStartArray(name);
        foreach (var e in events) WriteFederationEvent(writer, e.Json);
        writer.WriteEndArray();
    }

    /// <summary>An event as other servers get it: the PDU without the <c>unsigned</c> data this server keeps with it.</summary>
    private static void WriteFederationEvent(Utf8JsonWriter writer, JsonElement pdu)
    {
        writer.WriteStartObject();
        foreach (var property in pdu.EnumerateObject())
        {
            if (property.NameEquals("unsigned")) continue;
            property.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
