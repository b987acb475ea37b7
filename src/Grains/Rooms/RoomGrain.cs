using HomeServer.Grains.Delivery;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// One room. Its state lives in <see cref="RoomWriter"/> (group commit, the only writer) as immutable snapshots;
/// every public method interleaves and works on the snapshot of the moment or queues a write. See
/// docs/adr/0006-room-grain-group-commit.md.
/// </summary>
[GrainType("room")]
public sealed partial class RoomGrain(
    IHomeServerStore store, LocalServer server, LocalSigningKey signingKey, ActiveSilos silos, ILogger<RoomGrain> logger,
    SyncDeliveryOptions? delivery = null) : HomeServerGrain, IRoomGrain
{
    private static readonly Func<long> Clock = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private readonly SyncDeliveryOptions _delivery = delivery ?? new();

    private readonly TypingTracker _typing = new(Clock);
    private readonly SemaphoreSlim _historyGate = new(1, 1);
    private RoomWriter _writer = null!;
    private SyncNotifier _notifier = null!;
    private RoomFeedPublisher _feed = null!;
    private RoomHistory? _history;
    private IDisposable? _typingTimer;

    private string RoomId => Key;

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        _notifier = new SyncNotifier(GrainFactory, silos, server, _delivery, logger);
        _feed = new RoomFeedPublisher(GrainFactory, silos, server, logger);
        _grainsForHandOver = GrainFactory;
        _writer = new RoomWriter(store, RoomId, Clock, signingKey.Current, OnCommitted, logger) { BeforeAppend = AddNotificationsAsync, AfterPlan = AddPolicyServerSignaturesAsync };
        var lastGlobalPosition = await _writer.LoadAsync(cancellationToken);
        if (_writer.Current is { Exists: true } snapshot)
        {
            // An earlier activation may have died between committing a batch and handing it to the members' sync grains.
            // Telling them how far the room's events go makes those behind it read the store, so such a batch is late,
            // never lost (docs/adr/0007-sync-grain-and-tokens.md).
            _notifier.Notify(snapshot.JoinedMembers, new SyncNotice(SyncNoticeKind.RoomEvent, RoomId, lastGlobalPosition));
        }
    }

    /// <summary>The current snapshot of an existing room, or M_FORBIDDEN (the caller cannot be in a room that does not exist).</summary>
    private RoomSnapshot RequireRoom() =>
        _writer.Current is { Exists: true } snapshot ? snapshot : throw MatrixRequestException.Forbidden("You are not in this room.");

    private RoomSnapshot RequireJoined(string userId)
    {
        var snapshot = RequireRoom();
        return snapshot.IsJoined(userId) ? snapshot : throw MatrixRequestException.Forbidden("You are not joined to this room.");
    }

    /// <returns>Done when the batch's events reached every silo's room feed hub (the writer answers the writes then).</returns>
    private Task OnCommitted(CommittedBatch batch)
    {
        var notifications = TakeCommittedNotifications(batch.Events.Count);
        RememberStatesAfter(batch.StatesAfter);
        var delivered = Task.CompletedTask;
        if (_delivery.IsNaive) NotifyEachMember(batch);
        else delivered = _feed.Publish(RoomId, batch.Before.LastPosition, batch.Events.Select(ToStoredEvent).ToList(), batch.After.JoinedMembers, notifications);

        var membershipChanges = batch.Events
            .Where(e => e.Event.Row.Membership is not null)
            .GroupBy(e => e.Event.Row.StateKey!)
            .Select(g => (UserId: g.Key, Position: g.Max(e => e.Appended.GlobalPosition)))
            .ToList();
        foreach (var (userId, position) in membershipChanges)
            _notifier.Notify(userId, new SyncNotice(SyncNoticeKind.Membership, RoomId, position));

        var left = membershipChanges.Select(c => c.UserId).Where(userId => !batch.After.IsJoined(userId));
        if (_typing.Remove(left)) NotifyTyping(batch.After);

        KickGuestsIfAccessRevoked(batch);
        PushCommittedNotifications();
        SignalCommitWaiters();
        HandOverToOtherServers(batch);
        return delivered;
    }

    /// <summary>Naive delivery, kept for comparison: one notice per member, whose sync grain then reads the store.</summary>
    private void NotifyEachMember(CommittedBatch batch)
    {
        var lastGlobal = batch.Events[^1].Appended.GlobalPosition;
        _notifier.Notify(batch.After.JoinedMembers, new SyncNotice(SyncNoticeKind.RoomEvent, RoomId, lastGlobal));
        SyncMetrics.FanOutBatches.Add(1);
        SyncMetrics.FanOutMessages.Add(batch.After.JoinedMembers.Count(server.IsLocal));
    }

    private StoredEvent ToStoredEvent((PlannedEvent Event, AppendedEvent Appended) committed)
    {
        var (row, appended) = (committed.Event.Row, committed.Appended);
        return new StoredEvent(RoomId, appended.RoomPosition, appended.GlobalPosition, appended.EventId, row.Type, row.StateKey,
            row.Sender, row.OriginServerTs, row.Membership, Redacted: false, row.Json);
    }

    private void NotifyTyping(RoomSnapshot snapshot) =>
        _notifier.Notify(snapshot.JoinedMembers, new SyncNotice(SyncNoticeKind.Typing, RoomId, _typing.State.Serial));

    /// <summary>The room's membership and visibility history up to the snapshot, extended from the store on demand.</summary>
    private async Task<RoomHistory> GetHistoryAsync(RoomSnapshot snapshot)
    {
        var known = Volatile.Read(ref _history);
        if (known is not null && known.UpToPosition >= snapshot.LastPosition) return known;
        await _historyGate.WaitAsync();
        try
        {
            var history = _history ?? RoomHistory.Empty;
            while (history.UpToPosition < snapshot.LastPosition)
            {
                var page = await store.Events.GetRoomEventsAsync(RoomId, history.UpToPosition, Direction.Forward, 1000, CancellationToken.None);
                if (page.Count == 0) break;
                history = history.Extend(page.Where(e => e.RoomPosition <= snapshot.LastPosition));
                if (page[^1].RoomPosition >= snapshot.LastPosition) break;
            }
            Volatile.Write(ref _history, history);
            return history;
        }
        finally
        {
            _historyGate.Release();
        }
    }

    private static Identifiers.EventId ParseEventId(string eventId) =>
        Identifiers.EventId.TryParse(eventId, out var parsed) ? parsed : throw MatrixRequestException.NotFound("Event not found.");

    private async Task<StoredEvent> RequireEventInRoomAsync(string eventId)
    {
        ParseEventId(eventId);
        var stored = await store.Events.GetEventAsync(eventId, CancellationToken.None);
        return stored is not null && stored.RoomId == RoomId ? stored : throw MatrixRequestException.NotFound("Event not found.");
    }

    private static Pdu ToPdu(StoredEvent stored) => Pdu.Parse(Identifiers.EventId.Parse(stored.EventId), stored.Json);
}
