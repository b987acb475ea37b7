using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Grains.Federation.Outbound;

/// <summary>
/// The one sender of transactions to one other server (key: its name). Rooms hand over what they committed and return;
/// this grain reads the events owed from the event log above the destination's acknowledged position, sends them in
/// order, at most <see cref="OutboundTransaction.MaxPdus"/> per transaction and one transaction at a time, and moves
/// the acknowledged position (durable) once the destination answered. See docs/adr/0035-outbound-federation-transactions.md.
/// EDUs ride along, at most <see cref="OutboundTransaction.MaxEdus"/> per transaction, or go alone: those of the store's
/// outbox (to-device messages, deleted once answered) first, then those handed over in memory (typing, receipts, device
/// list updates, lost if the silo stops first). See docs/adr/0040-federated-keys-and-edus.md.
/// A destination owed more than <see cref="FederationOutboundOptions.CatchUpThreshold"/> events when it comes back or
/// when this grain starts gets only the newest owed event of each room, then the log from there on: it fetches the gap
/// itself. See docs/adr/0042-outbound-catch-up.md.
/// </summary>
[GrainType("federation-destination")]
public sealed class FederationDestinationGrain(
    IHomeServerStore store, FederationClient client, LocalServer local, IOptions<FederationOutboundOptions> options, TimeProvider time,
    ILogger<FederationDestinationGrain> logger) : HomeServerGrain, IFederationDestinationGrain
{
    /// <summary>How long to wait for the store's readable position to reach a handed-over event (an append of another room in flight).</summary>
    private static readonly TimeSpan WatermarkPoll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxWatermarkWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// In-memory EDUs kept while the destination is down; older ones go first (typing and receipts are soon stale, and
    /// a device list update dropped is followed by a later one).
    /// </summary>
    private const int MaxQueuedEdus = 1000;

    /// <summary>EDU content bytes per transaction (at least one EDU is always sent), so transactions stay of modest size.</summary>
    private const int MaxEduBytesPerTransaction = 256 * 1024;

    private readonly CancellationTokenSource _stopping = new();
    private readonly Queue<RoomEventsForServer> _handOvers = new();
    /// <summary>Per room with queued hand-overs: whether the last of them leaves the room's window open.</summary>
    private readonly Dictionary<string, bool> _queuedWindowOpen = new(StringComparer.Ordinal);
    private readonly Queue<OutboundEdu> _edus = new();
    private bool _outboxMayHoldEdus = true;
    private readonly string _transactionPrefix = time.GetUtcNow().ToUnixTimeMilliseconds().ToString();
    private long _transactionCount;
    private Dictionary<string, FederationRoomWindow> _rooms = [];
    private long _acked;
    private long _wanted;
    private bool _failing;
    /// <summary>Whether the backlog is to be measured before the next transaction: after a start, a recovery or a catch-up.</summary>
    private bool _checkBacklog = true;
    private CatchUp? _catchUp;
    private Task _sending = Task.CompletedTask;

    private string Destination => Key;

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        // Whatever the destination has not acknowledged (after a restart, or an earlier activation that was collected) goes first.
        StartSending();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    public Task HandOverAsync(RoomEventsForServer events)
    {
        // Only hand-overs that open or close a room's window need keeping; for a room already owed, the events are read
        // from the log anyway. So a destination that is down for days costs memory per membership change, not per batch.
        // The same holds for a room whose queued hand-overs will leave its window open: while the destination is down
        // they are not applied, and its later batches must not pile up behind them.
        if (!IsOwedAlready(events))
        {
            _handOvers.Enqueue(events);
            _queuedWindowOpen[events.RoomId] = events.LeftAt is null;
        }
        _wanted = Math.Max(_wanted, events.LastGlobalPosition);
        StartSending();
        return Task.CompletedTask;
    }

    private bool IsOwedAlready(RoomEventsForServer events) =>
        events.JoinedAt is null && events.LeftAt is null
        && (_queuedWindowOpen.TryGetValue(events.RoomId, out var open)
            ? open
            : _rooms.TryGetValue(events.RoomId, out var window) && window.UntilPosition is null);

    public Task WakeAsync()
    {
        _outboxMayHoldEdus = true;
        StartSending();
        return Task.CompletedTask;
    }

    public Task SendEduAsync(OutboundEdu edu)
    {
        if (edu.ReplaceKey is { } key && _edus.Any(queued => queued.ReplaceKey == key)) DropQueuedEdus(key);
        _edus.Enqueue(edu);
        while (_edus.Count > MaxQueuedEdus) _edus.Dequeue();
        StartSending();
        return Task.CompletedTask;
    }

    /// <summary>Removes the queued EDUs of a replace key: a newer one of the key supersedes them (docs/adr/0045).</summary>
    private void DropQueuedEdus(string replaceKey)
    {
        var kept = _edus.Where(queued => queued.ReplaceKey != replaceKey).ToList();
        _edus.Clear();
        foreach (var queued in kept) _edus.Enqueue(queued);
    }

    private void StartSending()
    {
        if (_sending.IsCompleted) _sending = SendLoopAsync();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var record = await store.FederationDestinations.GetAsync(Destination, cancellationToken);
        _rooms = record?.Rooms.ToDictionary(r => r.RoomId) ?? [];
        _acked = record?.AckedPosition ?? 0;
        _failing = record?.FailingSinceTs is not null;
    }

    /// <summary>The only writer of the cursor and the windows, so hand-overs never race a transaction in flight.</summary>
    private async Task SendLoopAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await ApplyHandOversAsync();
                if (_checkBacklog && _catchUp is null) await DecideCatchUpAsync();
                var next = _catchUp is not null ? await NextCatchUpEventsAsync() : await NextEventsAsync();
                var (edus, outboxIds) = await TakeEdusAsync();
                if (next is null && edus.Count == 0)
                {
                    if (_handOvers.Count == 0 && _edus.Count == 0 && !_outboxMayHoldEdus) return;
                    continue;
                }
                var owed = next?.Owed ?? [];
                if (owed.Count > 0 || edus.Count > 0)
                {
                    await DeliverAsync(OutboundTransaction.Build(
                        NewTransactionId(), local.Name, time.GetUtcNow().ToUnixTimeMilliseconds(), owed, next?.Covers ?? _acked, edus));
                }
                if (outboxIds.Count > 0) await store.FederationOutbox.DeleteAsync(Destination, outboxIds, CancellationToken.None);
                if (next is null || next.Value.Covers <= _acked) continue;
                _acked = next.Value.Covers;
                await store.FederationDestinations.SetAckedAsync(Destination, _acked, CancellationToken.None);
                ForgetClosedWindows();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The events stay in the log and the cursor in the store: the next hand-over or start resumes from there.
            logger.LogError(e, "Sending to {Destination} stopped", Destination);
        }
    }

    /// <summary>Opens and closes the room windows the hand-overs ask for, then takes the cursor back from the store if one opened.</summary>
    private async Task ApplyHandOversAsync()
    {
        var changed = false;
        while (_handOvers.TryDequeue(out var events))
        {
            var known = _rooms.GetValueOrDefault(events.RoomId);
            if (events.JoinedAt is { } joinedAt)
                changed |= await store.FederationDestinations.OpenRoomAsync(Destination, events.RoomId, joinedAt, CancellationToken.None);
            else if (known is null || known.UntilPosition is not null)
                // The server had a member joined before this batch but no open window here (its join was handed over by
                // an activation that died first): owed from this batch on.
                changed |= await store.FederationDestinations.OpenRoomAsync(Destination, events.RoomId, events.FirstGlobalPosition - 1, CancellationToken.None);
            if (events.LeftAt is { } leftAt)
            {
                await store.FederationDestinations.CloseRoomAsync(Destination, events.RoomId, leftAt, CancellationToken.None);
                changed = true;
            }
        }
        _queuedWindowOpen.Clear();
        if (!changed) return;
        await LoadAsync(CancellationToken.None);
        // A room opened during a catch-up may sort before the rooms already done, and the cursor may have moved back.
        _catchUp?.Restart();
    }

    /// <summary>
    /// Measures the backlog (events owed above the cursor, counted no further than the threshold) and, above the
    /// threshold, starts a catch-up up to the position readable now.
    /// </summary>
    private async Task DecideCatchUpAsync()
    {
        _checkBacklog = false;
        if (_rooms.Count == 0) return;
        var threshold = options.Value.CatchUpThreshold;
        var readable = await store.Events.GetMaxGlobalPositionAsync(CancellationToken.None);
        var owed = await store.FederationDestinations.CountOwedEventsAsync(Destination, _acked, readable, threshold + 1, CancellationToken.None);
        if (owed <= threshold) return;
        logger.LogInformation(
            "{Destination} is owed more than {Threshold} events: sending the newest event of each room up to {Position}, it fetches the rest",
            Destination, threshold, readable);
        _catchUp = new CatchUp(readable);
        FederationOutboundMetrics.CatchUps.Add(1);
    }

    /// <summary>
    /// The next page of a catch-up: the newest owed event of each of the next rooms (in room id order). The cursor moves
    /// only with the last page, to the catch-up's position, so a page that fails is sent again and nothing is skipped.
    /// </summary>
    private async Task<(IReadOnlyList<StoredEvent> Owed, long Covers)> NextCatchUpEventsAsync()
    {
        var catchUp = _catchUp!;
        var page = await store.FederationDestinations.GetNewestOwedEventsAsync(
            Destination, _acked, catchUp.UpTo, catchUp.AfterRoomId, OutboundTransaction.MaxPdus, CancellationToken.None);
        if (page.Count == OutboundTransaction.MaxPdus)
        {
            catchUp.AfterRoomId = page[^1].RoomId;
            return (page, _acked);
        }
        _catchUp = null;
        // What was committed while it caught up is measured again.
        _checkBacklog = true;
        return (page, Math.Max(_acked, catchUp.UpTo));
    }

    /// <summary>A catch-up in progress: up to which global position, and the last room whose newest event was sent.</summary>
    private sealed class CatchUp(long upTo)
    {
        public long UpTo { get; } = upTo;

        public string AfterRoomId { get; set; } = "";

        public void Restart() => AfterRoomId = "";
    }

    /// <summary>
    /// The next events owed, up to <see cref="OutboundTransaction.MaxPdus"/>, read from the log above the cursor and never past
    /// the position up to which every append is visible (so none of another room's events still in flight is skipped).
    /// No events owed among them only moves the cursor over events of windows that are not owed. Null: nothing is owed.
    /// </summary>
    private async Task<(IReadOnlyList<StoredEvent> Owed, long Covers)?> NextEventsAsync()
    {
        if (_rooms.Count == 0) return null;
        var waitedSince = time.GetUtcNow();
        while (true)
        {
            var readable = await store.Events.GetMaxGlobalPositionAsync(CancellationToken.None);
            var events = readable <= _acked
                ? []
                : (await store.Events.GetEventsAfterAsync(_rooms.Keys, _acked, OutboundTransaction.MaxPdus, CancellationToken.None))
                    .Where(e => e.GlobalPosition <= readable).ToList();
            if (events.Count > 0)
            {
                return (events.Where(e => _rooms[e.RoomId].Contains(e.GlobalPosition) && IsOursToSend(e)).ToList(), events[^1].GlobalPosition);
            }
            if (readable >= _wanted || _handOvers.Count > 0) return null;
            if (time.GetUtcNow() - waitedSince > MaxWatermarkWait)
            {
                logger.LogWarning("Events up to {Wanted} handed over for {Destination} are not readable after {Wait}", _wanted, Destination, MaxWatermarkWait);
                _wanted = readable;
                return null;
            }
            await Task.Delay(WatermarkPoll, time, _stopping.Token);
        }
    }

    /// <summary>
    /// The events this server sends: its users' own, and users' membership events about themselves from other servers
    /// but the destination (the joins, leaves and knocks this server took in as the resident server must reach the room's
    /// other servers). Any other server's event is its own server's to send: relaying it too would send every event to
    /// every server once per server in the room, and out of its sender's order. An invite of a local user that this
    /// server built from a third-party invite (docs/adr/0046-third-party-invites.md) has another server's sender but is
    /// this server's to send.
    /// </summary>
    private bool IsOursToSend(StoredEvent e) =>
        local.IsLocal(e.Sender)
        || (e.Type == EventTypes.Member && e.StateKey == e.Sender && !e.Sender.EndsWith(":" + Destination, StringComparison.Ordinal))
        || (e.Membership == Membership.Invite && e.StateKey is { } invitee && local.IsLocal(invitee)
            && ThirdPartyInvites.ThirdPartyInviteOrigin.IsBuiltBy(e.Json, local.Name));

    /// <summary>
    /// The EDUs of the next transaction: the outbox's oldest (with their ids, deleted once the transaction is answered),
    /// then those queued in memory, at most <see cref="OutboundTransaction.MaxEdus"/> and about
    /// <see cref="MaxEduBytesPerTransaction"/> of content.
    /// </summary>
    private async Task<(List<JsonObject> Edus, List<long> OutboxIds)> TakeEdusAsync()
    {
        var edus = new List<JsonObject>();
        var ids = new List<long>();
        var bytes = 0;
        bool Full(int size) => edus.Count >= OutboundTransaction.MaxEdus || (edus.Count > 0 && bytes + size > MaxEduBytesPerTransaction);
        if (_outboxMayHoldEdus)
        {
            var stored = await store.FederationOutbox.GetAsync(Destination, OutboundTransaction.MaxEdus, CancellationToken.None);
            if (stored.Count < OutboundTransaction.MaxEdus) _outboxMayHoldEdus = false;
            foreach (var edu in stored)
            {
                if (Full(edu.Content.Length))
                {
                    _outboxMayHoldEdus = true;
                    break;
                }
                edus.Add(Edu(edu.EduType, edu.Content));
                ids.Add(edu.Id);
                bytes += edu.Content.Length;
            }
        }
        while (_edus.TryPeek(out var queued) && !Full(queued.Content.Length))
        {
            _edus.Dequeue();
            edus.Add(Edu(queued.EduType, queued.Content));
            bytes += queued.Content.Length;
        }
        return (edus, ids);
    }

    private static JsonObject Edu(string type, byte[] content) => new() { ["edu_type"] = type, ["content"] = JsonNode.Parse(content) };

    private string NewTransactionId() => $"{_transactionPrefix}.{++_transactionCount}";

    /// <summary>Sends the transaction until the destination answers it, waiting longer after each failure in a row.</summary>
    private async Task DeliverAsync(OutboundTransaction transaction)
    {
        var settings = options.Value;
        for (var failures = 1; ; failures++)
        {
            var outcome = await SendOnceAsync(transaction);
            FederationOutboundMetrics.TransactionAttempts.Add(1);
            if (outcome != Outcome.Failed)
            {
                FederationOutboundMetrics.TransactionsAnswered.Add(1);
                FederationOutboundMetrics.PdusAnswered.Add(transaction.PduCount);
                if (_failing)
                {
                    _failing = false;
                    _checkBacklog = true;
                    logger.LogInformation("{Destination} answers again", Destination);
                    await store.FederationDestinations.SetFailingSinceAsync(Destination, null, CancellationToken.None);
                }
                return;
            }
            if (!_failing)
            {
                _failing = true;
                await store.FederationDestinations.SetFailingSinceAsync(Destination, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
            }
            var delay = RetryBackoff.Delay(failures, settings.InitialRetryDelay, settings.MaxRetryDelay, Random.Shared);
            // An idle activation would be collected while it waits, and the retry with it.
            DelayDeactivation(delay + TimeSpan.FromMinutes(1));
            await Task.Delay(delay, time, _stopping.Token);
        }
    }

    private enum Outcome { Delivered, Dropped, Failed }

    private async Task<Outcome> SendOnceAsync(OutboundTransaction transaction)
    {
        FederationResponse response;
        try
        {
            response = await client.SendAsync(Destination, HttpMethod.Put, transaction.Path, transaction.Body, _stopping.Token);
        }
        catch (FederationRequestException e)
        {
            logger.LogInformation("Transaction {TransactionId} to {Destination} failed: {Message}", transaction.Id, Destination, e.Message);
            return Outcome.Failed;
        }
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            LogRefusedPdus(transaction, response.Body);
            return Outcome.Delivered;
        }
        if (status is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
        {
            // The destination will not take this transaction however often it is sent: its events are not sent again.
            logger.LogWarning("Transaction {TransactionId} to {Destination} refused with {Status}, dropped: {Body}",
                transaction.Id, Destination, status, Excerpt(response.Body));
            return Outcome.Dropped;
        }
        logger.LogInformation("Transaction {TransactionId} to {Destination} answered {Status}; retrying later", transaction.Id, Destination, status);
        return Outcome.Failed;
    }

    /// <summary>The answer's <c>pdus</c> map names an error per PDU it did not accept; those are logged, not sent again.</summary>
    private void LogRefusedPdus(OutboundTransaction transaction, byte[] body)
    {
        JsonObject? results;
        try
        {
            results = JsonNode.Parse(body)?["pdus"] as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            logger.LogInformation("Transaction {TransactionId} to {Destination}: the answer is not JSON", transaction.Id, Destination);
            return;
        }
        if (results is null) return;
        foreach (var (eventId, result) in results)
        {
            if (result is JsonObject outcome && outcome["error"] is { } error)
                // Routine in federation (an event the destination finds unauthorised, say), so not a warning.
                logger.LogInformation("{Destination} did not accept {EventId}: {Error}", Destination, eventId, error.ToJsonString());
        }
    }

    /// <summary>A closed window is forgotten in the store once acknowledged past its end; the same here.</summary>
    private void ForgetClosedWindows()
    {
        foreach (var window in _rooms.Values.Where(w => w.UntilPosition is { } until && until <= _acked).ToList())
            _rooms.Remove(window.RoomId);
    }

    private static string Excerpt(byte[] body) => Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 500));
}
