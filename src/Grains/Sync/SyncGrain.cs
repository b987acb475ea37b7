using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Grains.Sync.Json;
using HomeServer.Storage;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Grains.Sync;

/// <summary>
/// One user's /sync. Keeps the user's rooms and what it was told since activation, so that a request with nothing new
/// parks without touching the store, a request whose news are all shared room events is answered from them (see
/// docs/adr/0008-shared-delta-fan-out.md), and any other request with something new reads the store once for all rooms.
/// <see cref="SyncAsync"/>, <see cref="NotifyAsync"/> and <see cref="ReceiveAsync"/> interleave (a parked long-poll must
/// not block notices), and the silo's room feed hub calls <see cref="Notify"/> and <see cref="Receive"/> from outside the
/// grain's turns, so the shared state is guarded: notice bookkeeping by a lock, computations one at a time by a semaphore.
/// </summary>
[GrainType("sync")]
public sealed class SyncGrain(
    IHomeServerStore store, LocalSyncGrains localSyncGrains, IOptions<ParkedSyncOptions> parking, IOptions<Presence.PresenceOptions> presence,
    InitialSyncGate initialSyncs, RecentEventPlaces recentPlaces, StreamPositionsReader positions,
    SharedMemberReads memberReads, SharedCurrentStateReads currentStates)
    : HomeServerGrain, ISyncGrain, ILocalFeedReceiver
{
    private readonly object _lock = new();
    private readonly SemaphoreSlim _computing = new(1, 1);
    private readonly CancellationTokenSource _deactivating = new();
    private readonly TypingChanges _typing = new();
    private readonly FeedBuffer _feed = new();
    private readonly LazyMembers _lazyMembers = new();
    private readonly ParkedSyncs _parked = new(parking.Value.MaxParkedSyncsPerUser);
    private readonly Dictionary<long, SyncFilter> _filters = [];
    private readonly int _epoch = Random.Shared.Next(1, int.MaxValue);
    private UserRooms _rooms = null!;
    private UnreadCountsCache _unread = null!;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The store's newest positions when this activation started. Every change after them is notified to this
    /// activation, so a since token at or past them needs the store only after a notice; older tokens are caught up
    /// from the store once.
    /// </summary>
    private StreamPositions _baseline = new(0, 0, 0);

    /// <summary>The newest store positions this activation has read; a since token beyond them is checked against the store.</summary>
    private StreamPositions _latestRead = new(0, 0, 0);

    private long _notifiedEvents;
    private long _notifiedAccountData;
    private long _notifiedReceipts;
    private long _notifiedPresence;
    private long _notifiedToDevice;

    /// <summary>How long a /sync waits for the deletion of the messages its since token acknowledges.</summary>
    private static readonly TimeSpan AcknowledgementWait = TimeSpan.FromSeconds(1);

    /// <summary>By device, the to-device position up to which this activation deleted its acknowledged messages.</summary>
    private readonly Dictionary<string, long> _toDeviceAcknowledged = new(StringComparer.Ordinal);

    /// <summary>By device, the highest to-device position this activation delivered.</summary>
    private readonly Dictionary<string, long> _toDeviceDelivered = new(StringComparer.Ordinal);
    private long _notifiedDeviceLists;
    private readonly DeviceKeyCountsCache _deviceKeys = new();
    private bool _membershipChanged;
    private bool _roomsLoaded;

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        _rooms = new UserRooms(store, Key);
        _unread = new UnreadCountsCache(Key, _lock, _feed);
        // Registered before the baseline is read: every room event committed after the baseline then reaches this
        // activation through its silo's room feed hub (Orleans holds those calls until activation completes).
        localSyncGrains.Add(Key, this);
        _baseline = await ReadPositionsAsync(cancellationToken);
        _latestRead = _baseline;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        localSyncGrains.Remove(Key, this);
        _deactivating.Cancel();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Parked long-polls answer at once with an ordinary empty response, and new ones do not park: the client simply syncs
    /// again and reaches the next activation. Called by <see cref="ParkedSyncRelease"/> when the deactivation starts.
    /// </summary>
    internal void ReleaseParkedRequests() => _ = _deactivating.CancelAsync();

    public Task NotifyAsync(SyncNotice notice)
    {
        Notify(notice);
        return Task.CompletedTask;
    }

    public Task ReceiveAsync(RoomFeedEvents events)
    {
        Receive(events);
        return Task.CompletedTask;
    }

    /// <summary>Called in a turn of this grain, or by its silo's room feed hub on the hub's thread (hence the lock).</summary>
    public void Notify(SyncNotice notice)
    {
        TaskCompletionSource wake;
        lock (_lock)
        {
            switch (notice.Kind)
            {
                case SyncNoticeKind.RoomEvent:
                    _notifiedEvents = Math.Max(_notifiedEvents, notice.Position);
                    break;
                case SyncNoticeKind.Membership:
                    _notifiedEvents = Math.Max(_notifiedEvents, notice.Position);
                    _membershipChanged = true;
                    _unread.ReadMarksMayHaveMoved(null);
                    break;
                case SyncNoticeKind.Typing:
                    if (notice.RoomId is null || !_typing.Record(notice.RoomId, notice.Position)) return;
                    break;
                case SyncNoticeKind.Receipt:
                    _notifiedReceipts = Math.Max(_notifiedReceipts, notice.Position);
                    _unread.ReadMarksMayHaveMoved(notice.RoomId);
                    break;
                case SyncNoticeKind.AccountData:
                    _notifiedAccountData = Math.Max(_notifiedAccountData, notice.Position);
                    break;
                case SyncNoticeKind.Presence:
                    _notifiedPresence = Math.Max(_notifiedPresence, notice.Position);
                    break;
                case SyncNoticeKind.ToDevice:
                    _notifiedToDevice = Math.Max(_notifiedToDevice, notice.Position);
                    break;
                case SyncNoticeKind.DeviceList:
                    _notifiedDeviceLists = Math.Max(_notifiedDeviceLists, notice.Position);
                    break;
                case SyncNoticeKind.OneTimeKeys:
                    // Counts alone do not wake a long-poll (as Synapse); the next response reads them again.
                    _deviceKeys.Invalidate();
                    return;
            }
            wake = TakeWake();
        }
        wake.TrySetResult();
    }

    /// <summary>Called in a turn of this grain, or by its silo's room feed hub on the hub's thread (hence the lock).</summary>
    public void Receive(RoomFeedEvents events)
    {
        TaskCompletionSource wake;
        lock (_lock)
        {
            _feed.Add(events);
            _unread.Add(events);
            wake = TakeWake();
        }
        wake.TrySetResult();
    }

    /// <summary>The signal parked requests wait on, replaced by a fresh one. Called under the lock.</summary>
    private TaskCompletionSource TakeWake()
    {
        var wake = _wake;
        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return wake;
    }

    public async Task<SyncResponse> SyncAsync(SyncRequest request, CancellationToken cancellationToken)
    {
        var filter = await ResolveFilterAsync(request.Filter, cancellationToken);
        SyncToken? since = null;
        if (request.Since is not null)
        {
            since = SyncToken.TryParse(request.Since)
                ?? throw MatrixRequestException.InvalidParam("The since token is not a sync token of this server.");
        }
        var toDevice = !request.WithoutToDevice;
        if (since is not null && toDevice) await AcknowledgeToDeviceAsync(request.DeviceId, since.ToDevice, cancellationToken);
        if (since is null || request.FullState)
        {
            // Initial and full-state syncs answer at once (the spec says full_state ignores the timeout), each when the
            // silo has a place to build it: a herd of them waits in line rather than building all at once (docs/adr/0027).
            using var place = await initialSyncs.EnterAsync(cancellationToken);
            return await RespondAsync(await ComputeAsync(request.DeviceId, since, filter, request.FullState, toDevice, cancellationToken), request.DeviceId, filter);
        }

        var timeout = request.Timeout < TimeSpan.Zero ? TimeSpan.Zero : request.Timeout > SyncRequest.MaxTimeout ? SyncRequest.MaxTimeout : request.Timeout;
        var started = Stopwatch.GetTimestamp();
        var current = since;
        var rereads = 0;
        ParkedSync? parked = null;
        try
        {
            while (true)
            {
                Task wake;
                bool mayHaveNews;
                lock (_lock)
                {
                    wake = _wake.Task;
                    mayHaveNews = MayHaveNews(current, toDevice);
                }
                var remaining = timeout - Stopwatch.GetElapsedTime(started);
                if (mayHaveNews)
                {
                    var computed = await ComputeAsync(request.DeviceId, current, filter, fullState: false, toDevice, cancellationToken);
                    if (!computed.Result.IsEmpty) return await RespondAsync(computed, request.DeviceId, filter);
                    // Nothing for this user, but the token may move past other users' changes while waiting.
                    current = computed.NextBatch;
                    if (!AwaitsUnreadableEvents(current)) continue;
                    // A notified event is above what the store lets readers read: an append of another room holding an
                    // earlier position is still in flight. Read again shortly rather than at once, until the timeout.
                    if (remaining <= TimeSpan.Zero)
                        return await RespondAsync(new Computed(new SyncResult(current), current, Source: null), request.DeviceId);
                    await Task.Delay(UnreadableEventsPause(++rereads), cancellationToken);
                    continue;
                }
                if (remaining <= TimeSpan.Zero || _deactivating.IsCancellationRequested || parked?.IsSuperseded == true)
                    return await RespondAsync(new Computed(new SyncResult(current), current, Source: null), request.DeviceId) with { Superseded = parked?.IsSuperseded == true };
                parked ??= _parked.Park(request.DeviceId);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deactivating.Token, parked.Superseded);
                SyncMetrics.ParkedLongPolls.Add(1);
                try
                {
                    await wake.WaitAsync(remaining, stop.Token);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
                finally
                {
                    SyncMetrics.ParkedLongPolls.Add(-1);
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            // A superseded or refused request must not leave its device's slot taken.
            if (parked is not null) _parked.Release(request.DeviceId, parked);
        }
    }

    private bool AwaitsUnreadableEvents(SyncToken token)
    {
        lock (_lock) return _notifiedEvents > token.Events;
    }

    /// <summary>1, 2, 4 … ms, at most 100: appends take milliseconds, a reaped claim of a dead writer about a second.</summary>
    private static TimeSpan UnreadableEventsPause(int attempt) => TimeSpan.FromMilliseconds(Math.Min(100, 1 << Math.Min(attempt - 1, 7)));

    /// <summary>Whether the store or the shared events may hold something for the user after <paramref name="since"/>. Called under the lock.</summary>
    private bool MayHaveNews(SyncToken since, bool toDevice) =>
        since.Events > _latestRead.Events || since.AccountData > _latestRead.AccountData || since.Receipts > _latestRead.Receipts
        || since.Events < _baseline.Events || since.AccountData < _baseline.AccountData || since.Receipts < _baseline.Receipts
        || _notifiedEvents > since.Events || _notifiedAccountData > since.AccountData || _notifiedReceipts > since.Receipts
        || _membershipChanged
        || MayHavePresenceNews(since)
        || (toDevice && MayHaveToDeviceNews(since))
        || MayHaveDeviceListNews(since)
        || _feed.HasNews(since)
        || !KnowsTypingOf(since) || _typing.Sequence > since.TypingSequence;

    /// <summary>Like <see cref="MayHaveNews"/>, for the presence stream. Called under the lock.</summary>
    private bool MayHavePresenceNews(SyncToken since) =>
        since.Presence > _latestRead.Presence || since.Presence < _baseline.Presence || _notifiedPresence > since.Presence;

    /// <summary>Like <see cref="MayHaveNews"/>, for the device-list stream. Called under the lock.</summary>
    private bool MayHaveDeviceListNews(SyncToken since) =>
        since.DeviceLists > _latestRead.DeviceLists || since.DeviceLists < _baseline.DeviceLists || _notifiedDeviceLists > since.DeviceLists;

    /// <summary>
    /// Like <see cref="MayHaveNews"/>, for the to-device stream. Notices are per user, the stream position per device: a
    /// notice for another device of the user makes this device read its inbox once, which moves its token past the notice.
    /// Called under the lock.
    /// </summary>
    private bool MayHaveToDeviceNews(SyncToken since) =>
        since.ToDevice > _latestRead.ToDevice || since.ToDevice < _baseline.ToDevice || _notifiedToDevice > since.ToDevice;

    /// <summary>
    /// Deletes the device's to-device messages up to the since token's position: the device syncing with that token has
    /// received them (docs/adr/0017-to-device-messages.md). Skipped when this activation already did so up to there, or
    /// has delivered nothing to the device since its last deletion; a token beyond what the store was seen to hold is
    /// left to the computation, which refuses it, so a forged token deletes nothing.
    /// </summary>
    private async Task AcknowledgeToDeviceAsync(string deviceId, long position, CancellationToken cancellationToken)
    {
        if (position == 0) return;
        lock (_lock)
        {
            if (position > _latestRead.ToDevice) return;
            if (_toDeviceAcknowledged.TryGetValue(deviceId, out var acknowledged)
                && (position <= acknowledged || _toDeviceDelivered.GetValueOrDefault(deviceId) <= acknowledged)) return;
        }
        // Best effort, like marking presence: the messages are never read again (reads start after the token), so a
        // delete that fails or is slow only leaves rows for the next acknowledgement, and a parked long-poll still parks
        // while the store is unavailable.
        var deleting = store.ToDevice.DeleteMessagesAsync(Key, deviceId, position, cancellationToken);
        try
        {
            await deleting.WaitAsync(AcknowledgementWait, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or StoreUnavailableException)
        {
            // A delete still running may yet fail: observed here, never thrown.
            _ = deleting.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return;
        }
        lock (_lock) _toDeviceAcknowledged[deviceId] = Math.Max(_toDeviceAcknowledged.GetValueOrDefault(deviceId), position);
    }

    /// <summary>
    /// Whether the token is in this activation's typing numbering. Another activation's token (or none) says nothing of
    /// what the client knows of typing, so its response carries the current typing of every joined room.
    /// </summary>
    private bool KnowsTypingOf(SyncToken? token) => token is not null && token.TypingEpoch == _epoch;

    /// <param name="toDevice">Whether the response carries the device's to-device messages (not for the legacy endpoints).</param>
    private async Task<Computed> ComputeAsync(
        string deviceId, SyncToken? since, SyncFilter filter, bool fullState, bool toDevice, CancellationToken cancellationToken)
    {
        await _computing.WaitAsync(cancellationToken);
        try
        {
            // Shared events are in the client format only.
            if (since is not null && !fullState && filter.EventFormat == EventFormat.Client
                && await TryFromSharedEventsAsync(deviceId, since, filter, toDevice, cancellationToken) is { } shared)
                return new Computed(shared, shared.NextBatch, SyncMetrics.SharedResponses);
            SyncMetrics.StoreComputations.Add(1);
            var upper = await ReadPositionsAsync(cancellationToken);
            lock (_lock)
            {
                _latestRead = new StreamPositions(
                    Math.Max(_latestRead.Events, upper.Events),
                    Math.Max(_latestRead.AccountData, upper.AccountData),
                    Math.Max(_latestRead.Receipts, upper.Receipts),
                    Math.Max(_latestRead.Presence, upper.Presence),
                    Math.Max(_latestRead.ToDevice, upper.ToDevice),
                    Math.Max(_latestRead.DeviceLists, upper.DeviceLists));
            }
            if (since is not null && (since.Events > upper.Events || since.AccountData > upper.AccountData || since.Receipts > upper.Receipts
                || since.Presence > upper.Presence || since.ToDevice > upper.ToDevice || since.DeviceLists > upper.DeviceLists))
                throw MatrixRequestException.InvalidParam("The since token is ahead of this server's streams.");
            IReadOnlyList<string> typingRooms;
            long typingSequence;
            lock (_lock)
            {
                _membershipChanged = false;
                typingRooms = KnowsTypingOf(since) ? _typing.ChangedAfter(since!.TypingSequence) : [];
                typingSequence = _typing.Sequence;
            }
            // Not only after a membership notice: the user's own member event travels apart from the room's events, so
            // one committed up to `upper` may not have been notified yet, and a response that moves the token past it
            // must send that room as newly joined (or left).
            await _rooms.EnsureCompleteThroughAsync(upper.Events, cancellationToken);
            _roomsLoaded = true;
            var typing = new ResponseTyping(GrainFactory, sendEmptyLists: since is not null);
            await typing.ReadAsync(KnowsTypingOf(since) ? Joined(typingRooms) : JoinedShowingTyping(filter));
            var input = new SyncInput(Key, deviceId, filter, since, fullState, upper, typing, _epoch, typingSequence);
            var result = await new SyncBuilder(store, GrainFactory, currentStates, _rooms, _lazyMembers, input, cancellationToken).BuildAsync();
            if (presence.Value.Enabled) await SyncPresence.AddAsync(store, Key, since, upper.Presence, filter, result, cancellationToken);
            if (filter.EventFormat == EventFormat.Federation) await FederationFormatState.ReadStoredEventsAsync(store, result, cancellationToken);
            // Without to-device messages the token keeps the since token's position: nothing more was delivered.
            var toDevicePosition = since?.ToDevice ?? 0;
            if (toDevice)
            {
                (var messages, toDevicePosition) = await SyncToDevice.ReadAsync(store, Key, deviceId, toDevicePosition, upper.ToDevice, cancellationToken);
                result.ToDevice.AddRange(messages);
                RecordToDeviceDelivered(deviceId, messages);
            }
            // The store read skipped the events the token already had; those above the response's end stay had.
            var nextBatch = result.NextBatch with
            {
                Delivered = since?.Delivered.Above(result.NextBatch.Events) ?? DeliveredEvents.None,
                TypingSequence = RecordTyping(typing, typingSequence),
                Presence = upper.Presence,
                ToDevice = toDevicePosition,
                DeviceLists = upper.DeviceLists,
            };
            await SyncDeviceLists.AddAsync(store, Key, since, nextBatch, result, cancellationToken);
            result.DeviceKeys = await _deviceKeys.GetAsync(store, Key, deviceId, fresh: true, cancellationToken);
            return new Computed(result, nextBatch, SyncMetrics.StoreResponses);
        }
        finally
        {
            _computing.Release();
        }
    }

    /// <summary>
    /// The response built from the shared events received since the token, or null when the store must answer: the
    /// token is not one this activation can vouch for, something besides room events and typing changed, or the shared
    /// events cannot tell the whole story (see <see cref="FeedBuffer"/> and <see cref="SharedSyncBuilder"/>).
    /// </summary>
    /// <remarks>
    /// To-device messages are no reason for the store path: they are read here with two small queries, so a message to
    /// many devices (a megolm key rotation) costs each recipient's sync grain that much rather than a whole store read.
    /// </remarks>
    private async Task<SyncResult?> TryFromSharedEventsAsync(
        string deviceId, SyncToken since, SyncFilter filter, bool toDevice, CancellationToken cancellationToken)
    {
        IReadOnlyList<(string RoomId, List<SharedEvent> Events)>? news;
        IReadOnlyList<string> typingRooms;
        long typingSequence;
        bool readToDevice;
        long presencePosition;
        lock (_lock)
        {
            if (!KnowsTypingOf(since) || !KnowsEverythingElseSince(since, filter) || (news = _feed.NewsFor(since)) is null) return null;
            if (SkipPresence(since, filter) is not { } skipped) return null;
            presencePosition = skipped;
            readToDevice = toDevice && MayHaveToDeviceNews(since);
            typingRooms = _typing.ChangedAfter(since.TypingSequence);
            typingSequence = _typing.Sequence;
        }
        IReadOnlyList<ToDeviceMessage> messages = [];
        var toDevicePosition = since.ToDevice;
        if (readToDevice)
        {
            var upper = await store.ToDevice.GetMaxStreamPositionAsync(cancellationToken);
            // A token ahead of the store is the store path's to refuse.
            if (since.ToDevice > upper) return null;
            lock (_lock) _latestRead = _latestRead with { ToDevice = Math.Max(_latestRead.ToDevice, upper) };
            (messages, toDevicePosition) = await SyncToDevice.ReadAsync(store, Key, deviceId, since.ToDevice, upper, cancellationToken);
        }
        var delivered = since.Delivered.With(news.SelectMany(room => room.Events).Select(e => e.GlobalPosition));
        var events = since.Events;
        if (delivered.Count > DeliveredEvents.MaxCount)
        {
            if (await CompactAsync(since.Events, delivered, cancellationToken) is not { } compacted) return null;
            (events, delivered) = compacted;
        }
        var typing = new ResponseTyping(GrainFactory, sendEmptyLists: true);
        await typing.ReadAsync(Joined(typingRooms));
        var nextBatch = since with
        {
            Events = events, Delivered = delivered, TypingSequence = RecordTyping(typing, typingSequence), ToDevice = toDevicePosition,
            Presence = presencePosition,
        };
        var builder = new SharedSyncBuilder(_rooms, _lazyMembers, deviceId, filter);
        var members = new Dictionary<(string RoomId, string UserId), StoredEvent?>();
        foreach (var (roomId, userId) in builder.MissingLazyMembers(news))
            members[(roomId, userId)] = await memberReads.ReadAsync(roomId, userId, cancellationToken);
        var result = builder.TryBuild(since, news, typing.Lists(), nextBatch, members);
        if (result is null) return null;
        result.ToDevice.AddRange(messages);
        RecordToDeviceDelivered(deviceId, messages);
        return result;
    }

    /// <summary>
    /// The token's event position moved over what the user has or has nothing to do with, read from the silo's
    /// <see cref="RecentEventPlaces"/>; null when the delivered set stays too long (the store must answer).
    /// </summary>
    private async Task<(long Events, DeliveredEvents Delivered)?> CompactAsync(
        long events, DeliveredEvents delivered, CancellationToken cancellationToken)
    {
        EventPlacesWindow? window;
        try
        {
            window = await recentPlaces.GetAsync(events, delivered.Positions[^1], cancellationToken);
        }
        catch (StoreUnavailableException)
        {
            return null;
        }
        if (window is null) return null;
        var compacted = TokenCompaction.Compact(events, delivered, window, ConcernsUser(events));
        if (compacted.Delivered.Count > DeliveredEvents.MaxCount) return null;
        // The window ends at a persisted-up-to position read from the store: tokens up to it are this server's own.
        lock (_lock) _latestRead = _latestRead with { Events = Math.Max(_latestRead.Events, compacted.Events) };
        SyncMetrics.CompactedTokens.Add(1);
        return compacted;
    }

    /// <summary>
    /// Whether an event after the token's position could be owed to the user: any event of a room the user is joined
    /// to or may have been joined to after the position, and any member event about the user (a membership change is
    /// the store path's business).
    /// </summary>
    private Func<EventPlace, bool> ConcernsUser(long position) => place =>
    {
        if (place.MemberUserId == Key) return true;
        if (_rooms.Get(place.RoomId) is not { } room) return false;
        if (room.Membership == Events.Membership.Join) return true;
        // Not joined now: the events concern the user only if that membership came after the position.
        return !(room.NotAfter <= position || room.Position is { } changedAt && changedAt <= position);
    };

    /// <summary>Remembers the highest to-device position delivered to the device, so its acknowledgement is not skipped.</summary>
    private void RecordToDeviceDelivered(string deviceId, IReadOnlyList<ToDeviceMessage> messages)
    {
        if (messages.Count == 0) return;
        lock (_lock) _toDeviceDelivered[deviceId] = Math.Max(_toDeviceDelivered.GetValueOrDefault(deviceId), messages[^1].StreamPosition);
    }

    /// <summary>
    /// Whether every change after the token other than shared room events, typing and to-device messages (which
    /// <see cref="TryFromSharedEventsAsync"/> reads apart) is known to be none: the token
    /// lies within what this activation was told about, no notice is newer, and no membership changed. Called under the lock.
    /// </summary>
    private bool KnowsEverythingElseSince(SyncToken since, SyncFilter filter) =>
        _roomsLoaded && !_membershipChanged
        && since.Events >= _baseline.Events && since.Events <= _latestRead.Events && _notifiedEvents <= since.Events
        && since.AccountData >= _baseline.AccountData && since.AccountData <= _latestRead.AccountData && _notifiedAccountData <= since.AccountData
        && since.Receipts >= _baseline.Receipts && since.Receipts <= _latestRead.Receipts && _notifiedReceipts <= since.Receipts
        && (!MayHavePresenceNews(since) || !WantsPresence(filter)) && !MayHaveDeviceListNews(since);

    private bool WantsPresence(SyncFilter filter) => presence.Value.Enabled && filter.Presence.Matches(SyncPresence.EventType, null);

    /// <summary>
    /// The presence position a shared response's token carries: the since token's, or, for a filter that leaves presence
    /// out (bots, load tools), the newest this activation knows of, so that other users' presence changes wake its
    /// long-polls once each without a store read. Null when the since token's position is beyond what is known (the
    /// store path checks it). Called under the lock.
    /// </summary>
    private long? SkipPresence(SyncToken since, SyncFilter filter)
    {
        if (WantsPresence(filter)) return since.Presence;
        var known = Math.Max(_baseline.Presence, Math.Max(_latestRead.Presence, _notifiedPresence));
        if (since.Presence > known) return null;
        _latestRead = _latestRead with { Presence = known };
        return known;
    }

    private IEnumerable<string> Joined(IEnumerable<string> roomIds) => roomIds.Where(roomId => _rooms.Get(roomId)?.Membership == "join");

    /// <summary>The joined rooms whose typing the filter lets into a response: only their room grains are asked.</summary>
    private IEnumerable<string> JoinedShowingTyping(SyncFilter filter) =>
        Joined(_rooms.All.Select(room => room.RoomId)).Where(roomId =>
            filter.Room.MatchesRoom(roomId) && filter.Room.Ephemeral.MatchesRoom(roomId) && filter.Room.Ephemeral.Matches("m.typing", null));

    /// <summary>
    /// Records the typing states a response read, so later tokens of this activation need only what changes after them.
    /// Returns the typing sequence the response's token may carry: the one after these states when nothing else changed
    /// since the computation started, else the one it started from (the client then gets those rooms once more).
    /// </summary>
    private long RecordTyping(ResponseTyping typing, long startSequence)
    {
        lock (_lock)
        {
            var nothingElseChanged = _typing.Sequence == startSequence;
            foreach (var (roomId, state) in typing.Read) _typing.Record(roomId, state.Serial);
            return nothingElseChanged ? _typing.Sequence : startSequence;
        }
    }

    private Task<StreamPositions> ReadPositionsAsync(CancellationToken cancellationToken) => positions.ReadAsync(cancellationToken);

    /// <summary>The default filter, an inline filter (JSON starting with '{'), or a filter the user uploaded (cached: they never change).</summary>
    private async Task<SyncFilter> ResolveFilterAsync(string? filter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(filter)) return SyncFilter.Default;
        if (filter[0] == '{') return SyncFilterParser.Parse(System.Text.Encoding.UTF8.GetBytes(filter));
        if (!long.TryParse(filter, NumberStyles.None, CultureInfo.InvariantCulture, out var filterId))
            throw MatrixRequestException.InvalidParam("The filter is neither a filter id nor a JSON object.");
        lock (_lock)
        {
            if (_filters.TryGetValue(filterId, out var cached)) return cached;
        }
        var json = await store.Filters.GetFilterAsync(Key, filterId, cancellationToken)
            ?? throw MatrixRequestException.InvalidParam("No such filter.");
        var parsed = SyncFilterParser.Parse(json);
        lock (_lock) _filters[filterId] = parsed;
        return parsed;
    }

    /// <summary>Answers the computed response, with the device's key counts from the cache when it did not read them.</summary>
    private async Task<SyncResponse> RespondAsync(Computed computed, string deviceId, SyncFilter? filter = null)
    {
        computed.Result.DeviceKeys ??= await _deviceKeys.GetAsync(store, Key, deviceId, fresh: false, CancellationToken.None);
        await SyncUnreadCounts.AddAsync(store, Key, computed.Result, filter, _unread, fromStore: computed.Source != SyncMetrics.SharedResponses, CancellationToken.None);
        return Respond(computed, deviceId, filter);
    }

    private SyncResponse Respond(Computed computed, string deviceId, SyncFilter? filter = null)
    {
        computed.Source?.Add(1);
        var body = SyncResponseWriter.Write(computed.Result, Key, deviceId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), computed.NextBatch, filter);
        return new SyncResponse(body, computed.NextBatch.ToString(), computed.Result.IsEmpty);
    }

    /// <summary>A computed response, the token it answers with, and the counter of its source (null: nothing was computed).</summary>
    private sealed record Computed(SyncResult Result, SyncToken NextBatch, Counter<long>? Source);
}
