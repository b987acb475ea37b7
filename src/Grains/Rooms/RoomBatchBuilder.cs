using System.Collections.Immutable;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>An event built for the batch: its stored form and the row to append.</summary>
internal sealed record PlannedEvent(Pdu Pdu, NewEvent Row);

/// <summary>
/// Builds the events of one append batch, one after the other on the linear timeline: each gets the auth events
/// of the state so far, the previous event as its only prev_event and the next depth, and must pass the
/// authorization rules against that state. Requests can be rolled back one by one, so a refused request does not
/// disturb the others of its batch.
/// </summary>
internal sealed class RoomBatchBuilder
{
    private readonly RoomSnapshot _start;
    private readonly Func<long> _clock;
    private readonly ServerSigningKey _signingKey;
    private readonly List<PlannedEvent> _events = [];
    private readonly List<StateChange> _stateChanges = [];
    private readonly List<Redaction> _redactions = [];
    private EventId? _last;
    private string? _lastHash;
    private long _depth;
    private ImmutableList<ForwardExtremity> _extremities;
    private bool _extremitiesChanged;
    private readonly List<(EventId EventId, ImmutableDictionary<StateEventKey, Pdu> State)> _statesAfter = [];
    private RoomSnapshot? _view;

    /// <param name="signingKey">The server's key, which signs every event built here.</param>
    public RoomBatchBuilder(RoomSnapshot start, Func<long> clock, ServerSigningKey signingKey)
    {
        _start = start;
        _clock = clock;
        _signingKey = signingKey;
        _last = start.LastEventId;
        _lastHash = start.LastEventContentHash;
        _depth = start.Depth;
        _extremities = start.Extremities;
        _view = start;
        State = start.State;
    }

    public readonly record struct Mark(
        ImmutableDictionary<StateEventKey, Pdu> State, EventId? Last, string? LastHash, long Depth, int Events, int StateChanges, int Redactions,
        ImmutableList<ForwardExtremity> Extremities, bool ExtremitiesChanged, int StatesAfter);

    public RoomVersion Version => _start.Version;

    public string RoomId => _start.RoomId;

    public ImmutableDictionary<StateEventKey, Pdu> State { get; private set; }

    public IReadOnlyList<PlannedEvent> Events => _events;

    /// <summary>The room as it would be after the events added so far.</summary>
    public RoomSnapshot View => _view ??= new RoomSnapshot(RoomId, Version, State, _start.LastPosition + _events.Count, _last, _depth)
    {
        LastEventContentHash = _lastHash,
        Extremities = _extremities,
    };

    /// <summary>The state after each event added so far (not after an event kept outside the state), for later forks.</summary>
    public IReadOnlyList<(EventId EventId, ImmutableDictionary<StateEventKey, Pdu> State)> StatesAfter => _statesAfter;

    /// <summary>The ids of the room's forward extremities: the newest event alone while the room is linear.</summary>
    public IReadOnlyCollection<string> ExtremityIds =>
        _extremities.IsEmpty ? _last is { } last ? [last.Value] : [] : _extremities.Select(e => e.EventId.Value).ToList();

    public Mark Save() => new(State, _last, _lastHash, _depth, _events.Count, _stateChanges.Count, _redactions.Count,
        _extremities, _extremitiesChanged, _statesAfter.Count);

    public void Restore(Mark mark)
    {
        State = mark.State;
        _last = mark.Last;
        _lastHash = mark.LastHash;
        _depth = mark.Depth;
        _events.RemoveRange(mark.Events, _events.Count - mark.Events);
        _stateChanges.RemoveRange(mark.StateChanges, _stateChanges.Count - mark.StateChanges);
        _redactions.RemoveRange(mark.Redactions, _redactions.Count - mark.Redactions);
        _extremities = mark.Extremities;
        _extremitiesChanged = mark.ExtremitiesChanged;
        _statesAfter.RemoveRange(mark.StatesAfter, _statesAfter.Count - mark.StatesAfter);
        _view = null;
    }

    /// <summary>
    /// Adds a state event unless the current event of its slot has the same sender and content; then nothing is added
    /// and that current event is returned. As Synapse, which answers such a repeat with the current event id.
    /// </summary>
    public Pdu AddUnlessUnchanged(EventSpec spec)
    {
        if (spec.StateKey is { } stateKey
            && State.Get(new StateEventKey(spec.Type, stateKey)) is { } current
            && current.Sender.Value == spec.Sender
            && JsonNode.DeepEquals(JsonNode.Parse(current.Content.GetRawText()), spec.Content))
            return current;
        return Add(spec);
    }

    /// <summary>Builds, authorises and adds the event; throws <see cref="MatrixRequestException"/> when refused.</summary>
    public Pdu Add(EventSpec spec)
    {
        var sender = UserId.Parse(spec.Sender);
        var built = Build(spec, sender);
        var auth = EventAuthorizer.Authorize(Version, built.Pdu, State);
        if (!auth.IsAllowed) throw MatrixRequestException.Forbidden(auth.Reason!);
        if (spec.Type == EventTypes.Redaction)
        {
            var redactionAuth = RedactionAuthorizer.Authorize(Version, built.Pdu, spec.RedactedOriginal, State);
            if (!redactionAuth.IsAllowed) throw MatrixRequestException.Forbidden(redactionAuth.Reason!);
        }

        var stored = Append(built, spec.Transaction);
        if (spec.RedactedOriginal is { } original) ApplyRedaction(original, stored);
        if (!_extremities.IsEmpty) ReplaceExtremities(built.Pdu.PrevEvents, stored);
        return stored;
    }

    /// <summary>
    /// Adds an event another server built and signed (a join sent through <c>/send_join</c>, any event of a
    /// transaction), already checked for format, hashes, signatures and its auth events. It must extend the timeline:
    /// its only previous event is the room's newest and its depth the next one; and it must pass the authorization rules
    /// against the state it extends. A redaction whose target is given is applied when the redaction rules allow it
    /// (otherwise it is kept, as the spec has servers do, and changes nothing).
    /// </summary>
    public Pdu AddReceived(BuiltEvent received, Pdu? redactedOriginal = null)
    {
        if (!FollowsAllExtremities(received.Pdu))
            throw new MatrixRequestException("M_INVALID_PARAM",
                "The event does not follow the room's newest event (for a join, ask /make_join for a new template).");
        if (!received.Pdu.Json.TryGetProperty("depth", out var depth) || !depth.TryGetInt64(out var value) || value != _depth + 1)
            throw new MatrixRequestException("M_INVALID_PARAM", $"The event's depth must be {_depth + 1}.");
        var auth = EventAuthorizer.Authorize(Version, received.Pdu, State);
        if (!auth.IsAllowed) throw EventRejection.Of(auth.Reason!);
        var stored = Append(received, transaction: null);
        if (redactedOriginal is not null && RedactionAuthorizer.Authorize(Version, received.Pdu, redactedOriginal, State).IsAllowed)
            ApplyRedaction(redactedOriginal, stored);
        if (!_extremities.IsEmpty)
        {
            _extremities = [];
            _extremitiesChanged = true;
        }
        return stored;
    }

    /// <summary>
    /// True when the event's previous events are exactly the room's forward extremities: the state before it is then
    /// the current state (a linear room's newest event, or every branch of a forked one).
    /// </summary>
    public bool FollowsAllExtremities(Pdu pdu)
    {
        var extremities = ExtremityIds;
        return extremities.Count > 0 && pdu.PrevEvents.Count == extremities.Count && pdu.PrevEvents.All(extremities.Contains);
    }

    /// <summary>
    /// Adds an event another server sent that does not follow all the room's extremities (a fork, or a merge of some),
    /// already checked for format, hashes, signatures and its auth events, with what the room worked out for it
    /// beforehand (<see cref="ForkPlan"/>): it must pass the rules against the state before it; the room's current state
    /// becomes the resolution of the states after the new extremities. Throws <see cref="StaleForkException"/> when the
    /// extremities changed since the plan was made.
    /// </summary>
    public Pdu AddReceivedOnFork(BuiltEvent received, ForkPlan plan, Pdu? redactedOriginal = null)
    {
        if (!plan.ExpectedExtremities.SetEquals(ExtremityIds)) throw new StaleForkException();
        var auth = EventAuthorizer.Authorize(Version, received.Pdu, plan.StateBefore);
        if (!auth.IsAllowed) throw EventRejection.Of(auth.Reason!);

        foreach (var outlier in plan.Outliers) AppendOutsideState(outlier);
        var depth = Math.Max(_depth, ForwardExtremity.Of(received.Pdu, plan.StateAfterEvent).Depth);
        var ownSlot = received.Pdu.StateKey is { } ownKey ? new StateEventKey(received.Pdu.Type, ownKey) : (StateEventKey?)null;
        var resolvedSlots = State.Keys.Union(plan.CurrentAfter.Keys)
            .Where(key => State.Get(key)?.EventId != plan.CurrentAfter.Get(key)?.EventId
                          && !(key == ownSlot && plan.CurrentAfter.Get(key)?.EventId == received.EventId))
            .OrderBy(key => key.Type, StringComparer.Ordinal).ThenBy(key => key.StateKey, StringComparer.Ordinal)
            .ToList();
        var replacedCurrent = State.Keys.Union(plan.CurrentAfter.Keys)
            .Where(key => State.Get(key)?.EventId != plan.CurrentAfter.Get(key)?.EventId)
            .OrderBy(key => key.Type, StringComparer.Ordinal).ThenBy(key => key.StateKey, StringComparer.Ordinal)
            .Select(key => new ReplacedCurrentSlot(key, State.Get(key)?.EventId.Value))
            .ToList();
        var stored = AppendOutsideState(received, resolvedSlots, replacedCurrent);
        _statesAfter.Add((received.EventId, plan.StateBefore.SetItemIfState(stored)));
        _depth = depth;
        if (redactedOriginal is not null && RedactionAuthorizer.Authorize(Version, received.Pdu, redactedOriginal, plan.StateBefore).IsAllowed)
            ApplyRedaction(redactedOriginal, stored);
        SetCurrentState(plan.CurrentAfter.SetItems(plan.CurrentAfter.Where(e => e.Value.EventId == stored.EventId)
            .Select(e => KeyValuePair.Create(e.Key, stored)).ToList()));
        _extremities = plan.ExtremitiesAfter is [var only] && only.EventId == received.EventId ? [] : plan.ExtremitiesAfter;
        _extremitiesChanged = true;
        return stored;
    }

    /// <summary>After a local event citing <paramref name="cited"/>: those stop being extremities and it becomes one.</summary>
    private void ReplaceExtremities(IReadOnlyList<string> cited, Pdu added)
    {
        var remaining = _extremities.RemoveAll(e => cited.Contains(e.EventId.Value));
        _extremities = remaining.IsEmpty ? [] : remaining.Add(ForwardExtremity.Of(added, ForwardExtremity.IdsOf(State)));
        _extremitiesChanged = true;
    }

    /// <summary>Makes <paramref name="resolved"/> the current state, recording a change for every slot that differs.</summary>
    private void SetCurrentState(ImmutableDictionary<StateEventKey, Pdu> resolved)
    {
        foreach (var key in State.Keys.Union(resolved.Keys).ToList())
        {
            var now = State.Get(key);
            var next = resolved.Get(key);
            if (now?.EventId == next?.EventId) continue;
            _stateChanges.Add(new StateChange(key.Type, key.StateKey, next?.EventId.Value));
        }
        State = resolved;
        _view = null;
    }

    /// <summary>
    /// Starts the room from another server's copy (a local user's join through <c>send_join</c>, already checked): the
    /// auth chain and state events in the order given, each slot's last one being its event in
    /// <paramref name="state"/>, then the join, which becomes the newest event with its own depth. Only on a room
    /// without events; the current state afterwards is <paramref name="state"/> with the join.
    /// </summary>
    public void AddRoomCopy(IReadOnlyList<BuiltEvent> history, IReadOnlyDictionary<StateEventKey, Pdu> state, BuiltEvent join)
    {
        if (_last is not null || _events.Count > 0) throw new InvalidOperationException("A room copy starts a room without events.");
        foreach (var e in history) Append(e, transaction: null);
        Append(join, transaction: null);

        var expected = state.Where(entry => entry.Key != new StateEventKey(EventTypes.Member, join.Pdu.StateKey!))
            .All(entry => State.Get(entry.Key)?.EventId == entry.Value.EventId);
        if (!expected || State.Count != state.Count + (state.ContainsKey(new StateEventKey(EventTypes.Member, join.Pdu.StateKey!)) ? 0 : 1))
            throw MatrixRequestException.InvalidParam("The auth chain holds state the room's state does not replace.");

        // The store takes one change per slot in a batch: the last, which is the current event of the slot.
        var lastOfSlot = _stateChanges.GroupBy(c => (c.EventType, c.StateKey)).Select(g => g.Last()).ToList();
        _stateChanges.Clear();
        _stateChanges.AddRange(lastOfSlot);
        _depth = join.Pdu.Json.GetProperty("depth").GetInt64();
        _view = null;
    }

    /// <summary>
    /// Appends an event to the log without making it part of the current state (an event on another branch, or one
    /// of the state at a gap): the current state is set afterwards from state resolution. The room becomes explicitly
    /// forked first, since its newest event is no longer the only extremity.
    /// </summary>
    /// <param name="replacedCurrent">The current-state slots the event's arrival changes, with their events before (none for an event of a gap).</param>
    private Pdu AppendOutsideState(BuiltEvent built, IReadOnlyList<StateEventKey>? resolvedSlots = null, IReadOnlyList<ReplacedCurrentSlot>? replacedCurrent = null)
    {
        if (_extremities.IsEmpty && _last is { } last)
        {
            _extremities = [new ForwardExtremity(last, _depth, _lastHash, ForwardExtremity.IdsOf(State))];
            _extremitiesChanged = true;
        }
        var depth = _depth;
        var stored = Append(built, transaction: null, inState: false, resolvedSlots, replacedCurrent ?? []);
        _depth = depth;
        return stored;
    }

    private Pdu Append(BuiltEvent built, ClientTransactionInfo? transaction, bool inState = true, IReadOnlyList<StateEventKey>? resolvedSlots = null,
        IReadOnlyList<ReplacedCurrentSlot>? replacedCurrent = null)
    {
        var pdu = built.Pdu;
        var key = pdu.StateKey is null || !inState ? (StateEventKey?)null : new StateEventKey(pdu.Type, pdu.StateKey);
        var replaced = key is { } k ? State.Get(k) : null;
        var storedJson = StoredEventJson.Compose(built.Json, new StoredExtras(
            ReplacesState: replaced?.EventId.Value,
            PrevContent: replaced?.Content,
            PrevSender: replaced?.Sender.Value,
            Transaction: transaction,
            ResolvedSlots: resolvedSlots,
            ReplacedCurrent: replacedCurrent));
        var stored = Pdu.Parse(built.EventId, storedJson);
        var row = new NewEvent(built.EventId.Value, pdu.Type, pdu.StateKey, pdu.Sender.Value, OriginServerTs(pdu), storedJson)
        {
            Membership = pdu.Type == EventTypes.Member ? pdu.GetContentString("membership") : null,
            Transaction = transaction is { } t ? new ClientTransaction(t.DeviceId, t.TransactionId) : null,
            Relation = Relations.Of(pdu),
        };

        _events.Add(new PlannedEvent(stored, row));
        if (key is { } stateKey)
        {
            State = State.SetItem(stateKey, stored);
            _stateChanges.Add(new StateChange(pdu.Type, pdu.StateKey!, built.EventId.Value));
        }
        if (inState) _statesAfter.Add((built.EventId, State));
        _last = built.EventId;
        _lastHash = pdu.ContentHash;
        _depth++;
        _view = null;
        return stored;
    }

    /// <summary>
    /// Adds another server's signature (a Policy Server's) to an event of the batch. The state keeps the event as
    /// built where it is the current event of its slot; the earlier states kept for later forks do not need it.
    /// </summary>
    public void AddSignature(int index, string server, string keyId, string signature)
    {
        var (pdu, row) = _events[index];
        var json = StoredEventJson.WithSignature(Version, row.Json, server, keyId, signature);
        var signed = Pdu.Parse(pdu.EventId, json);
        _events[index] = new PlannedEvent(signed, row with { Json = json });
        if (pdu.StateKey is { } stateKey && State.Get(new StateEventKey(pdu.Type, stateKey)) is { } current && current.EventId == pdu.EventId)
            State = State.SetItem(new StateEventKey(pdu.Type, stateKey), signed);
        _view = null;
    }

    public EventBatch ToBatch() =>
        new(RoomId, _start.LastPosition, _events.Select(e => e.Row).ToList())
        {
            // The store takes one change per slot: the last one made in the batch.
            StateChanges = _stateChanges.GroupBy(c => (c.EventType, c.StateKey)).Select(g => g.Last()).ToList(),
            Redactions = _redactions.ToList(),
            ForwardExtremities = _extremitiesChanged
                ? _extremities.Select(e => new ForwardExtremityRow(e.EventId.Value, ForwardExtremity.SerializeState(e.StateAfter))).ToList()
                : null,
        };

    /// <summary>The snapshot once the batch is appended; <paramref name="lastPosition"/> is its last event's position.</summary>
    public RoomSnapshot Commit(long lastPosition) => new(RoomId, Version, State, lastPosition, _last, _depth)
    {
        LastEventContentHash = _lastHash,
        Extremities = _extremities,
    };

    private BuiltEvent Build(EventSpec spec, UserId sender)
    {
        var authEvents = AuthEventSelector.Select(spec.Type, spec.StateKey, sender, spec.Content, State);
        try
        {
            return EventBuilder.Build(new EventDraft
            {
                RoomVersion = Version,
                RoomId = Identifiers.RoomId.Parse(RoomId),
                Sender = sender,
                Type = spec.Type,
                StateKey = spec.StateKey,
                Content = spec.Content,
                PrevEvents = _extremities.IsEmpty ? _last is null ? [] : [_last] : ForwardExtremity.Cited(_extremities).Select(e => e.EventId).ToList(),
                AuthEvents = authEvents,
                ReferencedContentHashes = Version.EventIdInEvent ? ReferencedContentHashes(authEvents) : new Dictionary<EventId, string>(),
                Depth = _depth + 1,
                OriginServerTs = _clock(),
                Redacts = spec.Redacts,
            }, _signingKey);
        }
        catch (EventBuildException e)
        {
            throw e.Error switch
            {
                EventBuildError.TooLarge => new MatrixRequestException("M_TOO_LARGE", e.Message),
                EventBuildError.BadJson => MatrixRequestException.BadJson(e.Message),
                _ => MatrixRequestException.InvalidParam(e.Message),
            };
        }
    }

    /// <summary>The content hashes of the auth events (all in the current state) and of the previous event.</summary>
    private Dictionary<EventId, string> ReferencedContentHashes(IReadOnlyList<EventId> authEvents)
    {
        var hashes = new Dictionary<EventId, string>();
        foreach (var pdu in State.Values)
        {
            if (authEvents.Contains(pdu.EventId) && pdu.ContentHash is { } hash) hashes[pdu.EventId] = hash;
        }
        if (_last is { } last && _lastHash is { } lastHash) hashes[last] = lastHash;
        foreach (var extremity in _extremities)
        {
            if (extremity.ContentHash is { } hash) hashes[extremity.EventId] = hash;
        }
        return hashes;
    }

    private void ApplyRedaction(Pdu original, Pdu redaction)
    {
        // The first redaction strips the event; later ones change nothing and keep the first redacted_because.
        if (original.Json.TryGetProperty("unsigned", out var unsigned) && unsigned.TryGetProperty("redacted_because", out _)) return;
        var redactedJson = StoredEventJson.Redacted(Version, original, redaction);
        _redactions.Add(new Redaction(original.EventId.Value, redactedJson));
        if (original.StateKey is { } stateKey
            && State.Get(new StateEventKey(original.Type, stateKey)) is { } current
            && current.EventId == original.EventId)
        {
            State = State.SetItem(new StateEventKey(original.Type, stateKey), Pdu.Parse(original.EventId, redactedJson));
        }
    }

    private static long OriginServerTs(Pdu pdu) =>
        pdu.Json.GetProperty("origin_server_ts").GetInt64();
}
