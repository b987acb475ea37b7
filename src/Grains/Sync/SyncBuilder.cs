using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Computes one sync response from the store: an initial sync from the user's current rooms, an incremental one from
/// the events of the user's rooms after the since token, read for all rooms at once (no per-room queries for rooms
/// where nothing happened).
/// </summary>
internal sealed class SyncBuilder
{
    private const string MemberType = "m.room.member";

    private readonly IHomeServerStore _store;
    private readonly UserRooms _rooms;
    private readonly LazyMembers _lazyMembers;
    private readonly SyncInput _input;
    private readonly TimelineReader _timeline;
    private readonly RoomStateReader _state;
    private readonly SyncStreams _streams;
    private readonly CancellationToken _cancellationToken;

    public SyncBuilder(
        IHomeServerStore store, IGrainFactory grains, SharedCurrentStateReads currentStates, UserRooms rooms, LazyMembers lazyMembers,
        SyncInput input, CancellationToken cancellationToken)
    {
        _store = store;
        _rooms = rooms;
        _lazyMembers = lazyMembers;
        _input = input;
        _timeline = new TimelineReader(store, input.Filter, input.UserId);
        _state = new RoomStateReader(store, grains, currentStates);
        _streams = new SyncStreams(store, input.UserId, input.Upper, cancellationToken);
        _cancellationToken = cancellationToken;
    }

    private string UserId => _input.UserId;
    private Filtering.SyncFilter Filter => _input.Filter;

    public Task<SyncResult> BuildAsync() => _input.Since is { } since ? IncrementalAsync(since) : InitialAsync();

    private SyncToken TokenAt(long events) =>
        new(events, _input.Upper.AccountData, _input.Upper.Receipts, _input.TypingEpoch, _input.TypingSequence);

    private async Task<SyncResult> InitialAsync()
    {
        var upper = _input.Upper;
        var result = new SyncResult(TokenAt(upper.Events));
        _lazyMembers.Reset(_input.DeviceId);
        var memberships = new List<(string RoomId, string Membership)>();
        foreach (var room in _rooms.All.ToList())
        {
            if (!Filter.Room.MatchesRoom(room.RoomId)) continue;
            if (await _rooms.MembershipAtAsync(room.RoomId, upper.Events, _cancellationToken) is { } membership)
                memberships.Add((room.RoomId, membership));
        }
        var joinedIds = memberships.Where(m => m.Membership == "join").Select(m => m.RoomId).ToList();
        var receipts = await _streams.ReceiptsAsync(joinedIds, 0);
        var (globalData, roomData) = await _streams.AccountDataAsync(0);
        result.AccountData.AddRange(globalData.Where(entry => Filter.AccountData.Matches(entry.DataType, null)));

        foreach (var (roomId, membership) in memberships)
        {
            switch (membership)
            {
                case "join":
                    var (events, limited) = await _timeline.LatestAsync(roomId, upper.Events, long.MaxValue, _cancellationToken);
                    result.Joined.Add(await FullRoomAsync(roomId, events, limited, upper.Events, receipts, roomData));
                    break;
                case "invite":
                    result.Invited.Add(await StrippedRoomAsync(roomId));
                    break;
                case "knock":
                    result.Knocked.Add(await StrippedRoomAsync(roomId));
                    break;
                case "leave" or "ban" when Filter.Room.IncludeLeave:
                    result.Left.Add(await LeftAtInitialSyncAsync(roomId, roomData));
                    break;
            }
        }
        await AddRemoteInvitesAsync(result, after: 0, initial: true);
        return result;
    }

    private async Task<SyncResult> IncrementalAsync(SyncToken since)
    {
        var upper = _input.Upper;
        var scanned = new List<string>();
        foreach (var room in _rooms.All.ToList())
        {
            if (!Filter.Room.MatchesRoom(room.RoomId)) continue;
            if (room.Membership == "join" || await _rooms.ChangedAfterAsync(room, since.Events, _cancellationToken))
                scanned.Add(room.RoomId);
        }
        var (window, end) = await _streams.EventsAfterAsync(scanned, since, upper.Events);
        var laterOwnMemberEvents = new Dictionary<string, StoredEvent>(StringComparer.Ordinal);
        var token = TokenAt(end);
        if (CatchesUp(since))
        {
            var windowEnd = end;
            (end, laterOwnMemberEvents) = EndOfCatchUp(window, end);
            // Cut short: the next response goes on catching up, so its token keeps naming the other activation.
            token = end < windowEnd ? TokenAt(end) with { TypingEpoch = since.TypingEpoch } : TokenAt(end);
        }
        var result = new SyncResult(token);

        var rooms = new List<RoomChange>();
        foreach (var roomId in scanned)
        {
            var events = window.GetValueOrDefault(roomId) ?? [];
            var own = events.Where(IsOwnMemberEvent).ToList();
            var now = own.Count > 0 ? own[^1].Membership
                // The membership did not change up to the end: it is the one the next own member event replaces.
                : laterOwnMemberEvents.TryGetValue(roomId, out var next)
                    ? StoredEventFacts.PreviousMembership(next) ?? await _rooms.MembershipAtAsync(roomId, since.Events, _cancellationToken)
                    : await _rooms.MembershipAtAsync(roomId, end, _cancellationToken);
            var before = own.Count > 0
                ? StoredEventFacts.PreviousMembership(own[0]) ?? await _rooms.MembershipAtAsync(roomId, since.Events, _cancellationToken)
                : now;
            if (now is not null) rooms.Add(new RoomChange(roomId, events, own, now, before));
        }

        var receipts = await _streams.ReceiptsAsync(rooms.Where(r => r.Now == "join").Select(r => r.RoomId).ToList(), since.Receipts);
        var (globalData, roomData) = await _streams.AccountDataAsync(since.AccountData);
        result.AccountData.AddRange(globalData.Where(entry => Filter.AccountData.Matches(entry.DataType, null)));

        foreach (var room in rooms)
        {
            switch (room.Now)
            {
                case "join":
                    var joined = await JoinedIncrementallyAsync(room, since, end, receipts, roomData);
                    if (joined.HasContent) result.Joined.Add(joined);
                    break;
                case "invite" when room.Own.Count > 0:
                    result.Invited.Add(await StrippedRoomAsync(room.RoomId));
                    break;
                case "knock" when room.Own.Count > 0:
                    result.Knocked.Add(await StrippedRoomAsync(room.RoomId));
                    break;
                case "leave" or "ban" when room.Own.Count > 0:
                    result.Left.Add(await LeftIncrementallyAsync(room, since, roomData));
                    break;
            }
        }
        await AddRemoteInvitesAsync(result, after: since.AccountData, initial: false);
        return result;
    }

    /// <summary>
    /// Invites to rooms of other servers, which are not in the event log (docs/adr/0038): each change has a position of
    /// the account-data stream, so the window of that stream delivers it once. A pending invite shows the stripped state
    /// the inviting server sent and the invite; a rejected one is a left room whose timeline is the rejection (an
    /// initial sync shows it only when the filter includes left rooms).
    /// </summary>
    private async Task AddRemoteInvitesAsync(SyncResult result, long after, bool initial)
    {
        // An incremental sync whose account-data window is empty has no invite change to show: no store read per /sync.
        if (after >= _input.Upper.AccountData) return;
        var invites = await _store.RemoteInvites.GetOfUserAsync(UserId, after, _input.Upper.AccountData, _cancellationToken);
        foreach (var invite in invites)
        {
            if (!Filter.Room.MatchesRoom(invite.RoomId) || _rooms.Get(invite.RoomId) is not null) continue;
            if (invite.Membership == "invite")
            {
                var room = new StrippedRoomResult(invite.RoomId);
                room.StrippedState.AddRange(RemoteInviteState.StrippedState(invite));
                result.Invited.Add(room);
            }
            else if (invite.Membership == "knock") // a knock on a room of another server (docs/adr/0045)
            {
                var room = new StrippedRoomResult(invite.RoomId);
                room.StrippedState.AddRange(RemoteInviteState.StrippedState(invite));
                result.Knocked.Add(room);
            }
            else if (invite.LeaveEvent is { } leave && (!initial || Filter.Room.IncludeLeave))
            {
                var room = new LeftRoomResult(invite.RoomId) { Timeline = new TimelineResult([RemoteInviteState.LeaveEvent(invite, leave)], false, null) };
                result.Left.Add(room);
            }
        }
    }

    /// <summary>
    /// Whether a short backlog beyond the limit is delivered whole over consecutive responses instead of as a gap: only for
    /// a token another activation of this grain issued. Such a client was parked on an activation that is gone (a silo
    /// that died, a drain, a restart) and its backlog piled up through no choice of its own (docs/adr/0007). A token of
    /// this activation is answered as the spec describes: more new events than the limit make a gap, the newest events
    /// with <c>limited</c>, and the state of the gap. A response cut short keeps the other activation's epoch in its token,
    /// so the catch-up goes on until the backlog is delivered (its typing is then read in full once more, which is harmless).
    /// </summary>
    private bool CatchesUp(SyncToken since) => since.TypingEpoch != _input.TypingEpoch;

    /// <summary>
    /// Ends the response early when the part of a room's window the user was joined for is a short backlog beyond the
    /// timeline limit (<see cref="TimelineReader.CatchUpEnd"/>), and drops the window's events after that end: they come
    /// next time. Only for a token of another activation (see <see cref="CatchesUp"/>).
    /// </summary>
    /// <returns>The end, and by room the user's first own member event dropped (it tells the membership up to the end).</returns>
    private (long End, Dictionary<string, StoredEvent> LaterOwnMemberEvents) EndOfCatchUp(Dictionary<string, List<StoredEvent>> window, long end)
    {
        var laterOwnMemberEvents = new Dictionary<string, StoredEvent>(StringComparer.Ordinal);
        var joinedParts = window.Select(room => JoinedPart(room.Key, room.Value)).OfType<IReadOnlyList<StoredEvent>>();
        var catchUpEnd = _timeline.CatchUpEnd(joinedParts, end);
        if (catchUpEnd == end) return (end, laterOwnMemberEvents);
        foreach (var (roomId, events) in window)
        {
            if (events.FirstOrDefault(e => e.GlobalPosition > catchUpEnd && IsOwnMemberEvent(e)) is { } later)
                laterOwnMemberEvents[roomId] = later;
            events.RemoveAll(e => e.GlobalPosition > catchUpEnd);
        }
        return (catchUpEnd, laterOwnMemberEvents);
    }

    /// <summary>
    /// The room's new events from where the user was joined: all of them when joined at the since token, those from the
    /// user's join when it is in the window, none (null) when the user was not joined in the window. A later leave is
    /// counted with the rest, which can only end a response sooner.
    /// </summary>
    private IReadOnlyList<StoredEvent>? JoinedPart(string roomId, List<StoredEvent> events)
    {
        var firstOwn = events.FindIndex(IsOwnMemberEvent);
        if (firstOwn < 0) return _rooms.Get(roomId)?.Membership == "join" ? events : null;
        if (StoredEventFacts.PreviousMembership(events[firstOwn]) == "join") return events;
        var join = events.FindIndex(firstOwn, e => IsOwnMemberEvent(e) && e.Membership == "join");
        return join < 0 ? null : events.GetRange(join, events.Count - join);
    }


    /// <summary>A joined room with its full state at the start of the timeline (initial sync, full_state, newly joined).</summary>
    private async Task<JoinedRoomResult> FullRoomAsync(
        string roomId, List<StoredEvent> events, bool limited, long end,
        Dictionary<string, List<Receipt>> receipts, Dictionary<string, List<AccountDataEntry>> roomData)
    {
        var lazyMembers = Filter.Room.State.LazyLoadMembers
            ? events.Select(e => e.Sender).Append(UserId).Distinct(StringComparer.Ordinal).ToList()
            : null;
        IReadOnlyList<StoredEvent> state;
        RoomSummary summary;
        var cached = await _state.CachedBeforeAsync(roomId, UserId, events, lazyMembers);
        if (cached is { } fromSnapshot)
        {
            (state, summary, _) = fromSnapshot;
        }
        else
        {
            var current = await _state.CurrentAsync(roomId, _cancellationToken);
            summary = RoomStateReader.Summarize(current, UserId);
            state = await _state.BeforeAsync(current, events.Count > 0 ? events[0].GlobalPosition : end + 1, _cancellationToken);
        }
        var room = new JoinedRoomResult(roomId)
        {
            Forced = true,
            Summary = summary,
            Timeline = await TimelineAsync(roomId, events, limited, end),
            StateIsPreSerialised = cached.HasValue,
        };
        room.State.AddRange(FilterState(roomId, state, events, includeOwnMember: true, summary.Heroes ?? [], changedAfter: null));
        // The filter keeps an ordered subset: kept whole, the section is the snapshot's shared bytes.
        if (cached?.SharedJson is { } shared && room.State.Count == state.Count) room.SharedStateJson = shared;
        // Whatever the token, a client that gets the room in full gets its current typing.
        await _input.Typing.ReadAsync([roomId]);
        AddEphemeralAndAccountData(room, receipts, roomData);
        RememberSentMembers(roomId, room.State, events);
        return room;
    }

    private async Task<JoinedRoomResult> JoinedIncrementallyAsync(
        RoomChange change, SyncToken since, long end,
        Dictionary<string, List<Receipt>> receipts, Dictionary<string, List<AccountDataEntry>> roomData)
    {
        var (events, limited) = await _timeline.FromWindowAsync(change.Events, _cancellationToken);
        var newlyJoined = JoinedInWindow(change);
        if (_input.FullState || newlyJoined)
        {
            // A room the client has not had (or lost, by leaving) comes whole; its timeline is limited unless it shows the
            // room from its creation, so the client knows there is history to page back to (Synapse marks every newly
            // joined room limited).
            return await FullRoomAsync(change.RoomId, events, limited || (newlyJoined && !StartsAtCreation(events)), end, receipts, roomData);
        }

        var room = new JoinedRoomResult(change.RoomId)
        {
            Timeline = events.Count > 0 ? TimelineReader.Result(events, limited)
                // An empty but limited timeline (a timeline limit of 0) still needs a prev_batch to page back from.
                : limited ? await TimelineAsync(change.RoomId, events, limited, end)
                : null,
        };
        IReadOnlyList<StoredEvent>? current = null;
        if (limited)
        {
            // State that changed in the gap between the since token and the start of the timeline.
            current = await _state.CurrentAsync(change.RoomId, _cancellationToken);
            var atStart = await _state.BeforeAsync(current, events.Count > 0 ? events[0].GlobalPosition : end + 1, _cancellationToken);
            var changed = atStart.Where(e => e.GlobalPosition > since.Events).ToList();
            room.State.AddRange(FilterState(change.RoomId, changed, events, includeOwnMember: false, [], changedAfter: since.Events));
        }
        await AddLazyMembersOfSendersAsync(room, events);
        if (events.Any(e => e.Type == MemberType) || room.State.Any(e => e.Type == MemberType))
        {
            current ??= await _state.CurrentAsync(change.RoomId, _cancellationToken);
            room.Summary = RoomStateReader.Summarize(current, UserId);
        }
        AddEphemeralAndAccountData(room, receipts, roomData);
        RememberSentMembers(change.RoomId, room.State, events);
        return room;
    }

    /// <summary>An invited or knocked room: the stripped state the spec gives for both.</summary>
    private async Task<StrippedRoomResult> StrippedRoomAsync(string roomId)
    {
        var room = new StrippedRoomResult(roomId);
        room.StrippedState.AddRange(await _state.InviteStateAsync(roomId, UserId, _cancellationToken));
        return room;
    }

    private async Task<LeftRoomResult> LeftIncrementallyAsync(RoomChange change, SyncToken since, Dictionary<string, List<AccountDataEntry>> roomData)
    {
        var left = new LeftRoomResult(change.RoomId);
        var leaveEvent = change.Own[^1];
        var joinedInWindow = JoinedInWindow(change);
        if (change.Before is "invite" or "knock" && !joinedInWindow)
        {
            // A rejected or withdrawn invite or knock: the user never saw the room's timeline, only this event.
            left.Timeline = TimelineReader.Result([leaveEvent], false);
        }
        else if (joinedInWindow)
        {
            // Joined and left since the token: the client never had the room, so it gets it whole as it was up to the
            // leave (Synapse sends such a room as newly joined, with full state).
            var upToLeave = change.Events.TakeWhile(e => e.GlobalPosition <= leaveEvent.GlobalPosition).ToList();
            var (events, limited) = await _timeline.FromWindowAsync(upToLeave, _cancellationToken);
            left.Timeline = await TimelineAsync(change.RoomId, events, limited || !StartsAtCreation(events), leaveEvent.GlobalPosition);
            var current = await _state.CurrentAsync(change.RoomId, _cancellationToken);
            var state = await _state.BeforeAsync(current, events.Count > 0 ? events[0].GlobalPosition : leaveEvent.GlobalPosition + 1, _cancellationToken);
            left.State.AddRange(FilterState(change.RoomId, state, events, includeOwnMember: true, [], changedAfter: null));
        }
        else
        {
            var upToLeave = change.Events.TakeWhile(e => e.GlobalPosition <= leaveEvent.GlobalPosition).ToList();
            var (events, limited) = await _timeline.FromWindowAsync(upToLeave, _cancellationToken);
            left.Timeline = TimelineReader.Result(events, limited);
            if (limited)
            {
                var current = await _state.CurrentAsync(change.RoomId, _cancellationToken);
                var atStart = await _state.BeforeAsync(current, events[0].GlobalPosition, _cancellationToken);
                left.State.AddRange(FilterState(change.RoomId, atStart.Where(e => e.GlobalPosition > since.Events).ToList(), events,
                    includeOwnMember: false, [], changedAfter: since.Events));
            }
        }
        AddRoomAccountData(left.RoomId, left.AccountData, roomData);
        return left;
    }

    private async Task<LeftRoomResult> LeftAtInitialSyncAsync(string roomId, Dictionary<string, List<AccountDataEntry>> roomData)
    {
        var left = new LeftRoomResult(roomId);
        var membership = _rooms.Get(roomId)!;
        var leaveEvent = await _store.Events.GetEventAsync(membership.EventId, _cancellationToken);
        if (leaveEvent is not null)
        {
            var (events, limited) = await _timeline.LatestAsync(roomId, leaveEvent.GlobalPosition, leaveEvent.RoomPosition + 1, _cancellationToken);
            left.Timeline = await TimelineAsync(roomId, events, limited, leaveEvent.GlobalPosition);
            var current = await _state.CurrentAsync(roomId, _cancellationToken);
            var state = await _state.BeforeAsync(current, events.Count > 0 ? events[0].GlobalPosition : leaveEvent.GlobalPosition + 1, _cancellationToken);
            left.State.AddRange(FilterState(roomId, state, events, includeOwnMember: true, [], changedAfter: null));
        }
        AddRoomAccountData(roomId, left.AccountData, roomData);
        return left;
    }

    /// <summary>
    /// Whether the user joined the room anew in the window: a join whose previous membership was not a join (from an
    /// invite, after a leave, or after a join and leave in the same window). A profile change (join to join) is not one.
    /// </summary>
    private static bool JoinedInWindow(RoomChange change)
    {
        var previous = change.Before;
        foreach (var own in change.Own)
        {
            if (own.Membership == "join" && previous != "join") return true;
            previous = own.Membership;
        }
        return false;
    }

    private static bool StartsAtCreation(List<StoredEvent> timeline) =>
        timeline.Count > 0 && timeline[0].Type == "m.room.create" && timeline[0].StateKey == "";

    /// <summary>
    /// The timeline with a prev_batch even when it is empty (the filter matched nothing, nothing new in a full_state
    /// sync): then the token at the room's newest event up to <paramref name="end"/>, from which /messages pages back.
    /// </summary>
    private async Task<TimelineResult> TimelineAsync(string roomId, List<StoredEvent> events, bool limited, long end)
    {
        var timeline = TimelineReader.Result(events, limited);
        if (timeline.PrevBatch is not null) return timeline;
        var from = long.MaxValue;
        while (true)
        {
            var page = await _store.Events.GetRoomEventsAsync(roomId, from, Direction.Backward, 50, _cancellationToken);
            foreach (var storedEvent in page)
            {
                if (storedEvent.GlobalPosition <= end) return timeline with { PrevBatch = Rooms.RoomStreamToken.Format(storedEvent.RoomPosition) };
                from = storedEvent.RoomPosition;
            }
            if (page.Count < 50) return timeline;
        }
    }

    /// <summary>
    /// Applies the state filter; with lazy-loading, keeps only the member events of the timeline's senders, of the
    /// user (when asked), of the heroes, and every member event that changed after <paramref name="changedAfter"/>
    /// (the gap of a limited timeline, which the spec requires regardless of redundancy).
    /// </summary>
    private List<StoredEvent> FilterState(
        string roomId, IReadOnlyList<StoredEvent> state, IReadOnlyList<StoredEvent> timeline, bool includeOwnMember,
        IReadOnlyList<string> heroes, long? changedAfter)
    {
        var filter = Filter.Room.State;
        if (!filter.MatchesRoom(roomId)) return [];
        HashSet<string>? wanted = null;
        if (filter.LazyLoadMembers)
        {
            wanted = new HashSet<string>(timeline.Select(e => e.Sender), StringComparer.Ordinal);
            wanted.UnionWith(heroes);
            if (includeOwnMember) wanted.Add(UserId);
        }
        return state.Where(e =>
                filter.Matches(roomId, e.Type, e.Sender, () => StoredEventFacts.ContentHasUrl(e))
                && (wanted is null || e.Type != MemberType || wanted.Contains(e.StateKey!)
                    || (changedAfter is { } after && e.GlobalPosition > after)))
            .ToList();
    }

    /// <summary>With lazy-loading, the member events of timeline senders the device has not been sent yet.</summary>
    private async Task AddLazyMembersOfSendersAsync(JoinedRoomResult room, List<StoredEvent> timeline)
    {
        var filter = Filter.Room.State;
        if (!filter.LazyLoadMembers || timeline.Count == 0 || !filter.MatchesRoom(room.RoomId)
            || !filter.Matches(MemberType, null)) return;
        var known = new HashSet<string>(
            timeline.Concat(room.State).Where(e => e.Type == MemberType).Select(e => e.StateKey!), StringComparer.Ordinal);
        foreach (var sender in timeline.Select(e => e.Sender).Distinct(StringComparer.Ordinal))
        {
            if (known.Contains(sender)) continue;
            if (!filter.IncludeRedundantMembers && _lazyMembers.WasSent(_input.DeviceId, room.RoomId, sender)) continue;
            var member = await _state.MemberAsync(room.RoomId, sender, _cancellationToken);
            if (member is not null && member.GlobalPosition < timeline[0].GlobalPosition && filter.Matches(MemberType, member.Sender))
                room.State.Add(member);
        }
    }

    /// <summary>
    /// Only a lazy-loading device that leaves out redundant members needs to know what it was sent; for any other the
    /// set would cost one entry per member of every room in each full state (5,000 per initial sync of a big room).
    /// A device that switches to lazy-loading later is sent some member events again, which the spec allows.
    /// </summary>
    private void RememberSentMembers(string roomId, IEnumerable<StoredEvent> state, IEnumerable<StoredEvent> timeline)
    {
        var filter = Filter.Room.State;
        if (!filter.LazyLoadMembers || filter.IncludeRedundantMembers) return;
        foreach (var member in state.Concat(timeline).Where(e => e.Type == MemberType && e.StateKey is not null))
            _lazyMembers.Add(_input.DeviceId, roomId, member.StateKey!);
    }

    private void AddEphemeralAndAccountData(
        JoinedRoomResult room, Dictionary<string, List<Receipt>> receipts, Dictionary<string, List<AccountDataEntry>> roomData)
    {
        var ephemeral = Filter.Room.Ephemeral;
        if (ephemeral.MatchesRoom(room.RoomId))
        {
            if (_input.Typing.For(room.RoomId) is { } typing && ephemeral.Matches("m.typing", null)) room.Typing = typing;
            if (receipts.TryGetValue(room.RoomId, out var roomReceipts) && ephemeral.Matches("m.receipt", null))
                room.Receipts.AddRange(roomReceipts);
        }
        AddRoomAccountData(room.RoomId, room.AccountData, roomData);
    }

    private void AddRoomAccountData(string roomId, List<AccountDataEntry> target, Dictionary<string, List<AccountDataEntry>> roomData)
    {
        var filter = Filter.Room.AccountData;
        if (!filter.MatchesRoom(roomId) || !roomData.TryGetValue(roomId, out var entries)) return;
        target.AddRange(entries.Where(entry => filter.Matches(entry.DataType, null)));
    }

    private bool IsOwnMemberEvent(StoredEvent storedEvent) => storedEvent.Type == MemberType && storedEvent.StateKey == UserId;

    /// <summary>One room's part of the window: its events, the user's own member events among them, and the membership before and after.</summary>
    private sealed record RoomChange(string RoomId, List<StoredEvent> Events, List<StoredEvent> Own, string Now, string? Before);
}
