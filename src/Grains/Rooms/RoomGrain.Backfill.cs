using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A room joined over federation starts here at the copy of docs/adr/0037; its earlier history is fetched from a
/// resident server (<c>GET /_matrix/federation/v1/backfill</c>) when a backwards <c>/messages</c> reaches the start of
/// what this server holds, checked event by event as a received PDU, and stored below the event log
/// (<see cref="IRoomBackfillStore"/>). See docs/adr/0044-backfill.md.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>Events asked for per backfill request (the most this project's servers answer).</summary>
    internal const int BackfillBatchSize = 100;

    /// <summary>Backfill requests one <c>/messages</c> page may cause (a filter or visibility can hide whole batches).</summary>
    private const int MaxBackfillsPerPage = 3;

    // One backfill of the room at a time: a second reader waits and then reads what the first one stored.
    private readonly SemaphoreSlim _backfillGate = new(1, 1);

    /// <summary>What this activation knows of the room's backfill; null until first needed.</summary>
    private BackfillState? _backfill;

    /// <param name="FirstLogPosition">The position of the copy's join: the log's part of the timeline starts there.</param>
    /// <param name="OldestPosition">The oldest backfilled event's position, 0 when none is stored.</param>
    /// <param name="HistoryEvents">The backfilled member and history visibility events, ascending (for <see cref="RoomHistory.WithEarlierHistory"/>).</param>
    /// <param name="CopyVisibility">The <c>m.room.history_visibility</c> event of the copy (in effect at the join), if the room had one.</param>
    private sealed record BackfillState(
        long FirstLogPosition, long OldestPosition, bool Complete, ImmutableList<StoredEvent> HistoryEvents, StoredEvent? CopyVisibility)
    {
        public BackfilledTimeline Timeline => new(FirstLogPosition, Complete);

        /// <summary>
        /// The visibility in effect before the oldest backfilled visibility change. Until the copy's visibility event is
        /// backfilled, it is older than everything backfilled, so it is the one in effect there; once it is, what came
        /// before the oldest backfilled change is unknown until the history is complete (<c>joined</c>, the strictest),
        /// and then it is the default (null: <c>shared</c>).
        /// </summary>
        public string? VisibilityBefore =>
            CopyVisibility is null ? null
            : !HistoryEvents.Any(e => e.EventId == CopyVisibility.EventId) ? HistoryVisibilities.Normalize(ContentVisibility(CopyVisibility))
            : Complete ? null
            : HistoryVisibilities.Joined;

        private static string? ContentVisibility(StoredEvent e) => ToPdu(e).GetContentString("history_visibility");
    }

    private enum BackfillOutcome
    {
        /// <summary>Older history was stored (by this call or a concurrent one), or the history is now complete.</summary>
        Progressed,

        /// <summary>No server could be asked or none gave a usable answer: nothing changed; the next page tries again.</summary>
        Failed,
    }

    /// <summary>
    /// The backfill state of a room that began here as a copy of another server's room (its creator is of another
    /// server); null for a room whose log starts with its creation.
    /// </summary>
    private async Task<BackfillState?> BackfillStateAsync(RoomSnapshot snapshot)
    {
        if (_backfill is { } known) return known;
        if (snapshot.Get(EventTypes.Create, "") is not { } create || server.IsLocal(create.Sender.Value)) return null;
        var copy = await store.Events.GetRoomEventsAsync(RoomId, 0, Direction.Forward, StoreLimits.MaxEventsPerBatch + 1, CancellationToken.None);
        if (CopyJoinPosition(copy) is not { } firstLogPosition) return null;
        var visibility = copy.LastOrDefault(e => e.RoomPosition < firstLogPosition && e.Type == EventTypes.HistoryVisibility && e.StateKey == "");
        var loaded = await LoadBackfillStateAsync(firstLogPosition, visibility);
        _backfill = loaded;
        return loaded;
    }

    /// <summary>
    /// The copy's join: the first join of a user of this server in the log. Every event before it in the log is of the
    /// copy (state and auth chain), as this server had no member in the room before the copy was made.
    /// </summary>
    private long? CopyJoinPosition(IReadOnlyList<StoredEvent> firstEvents) =>
        firstEvents.FirstOrDefault(e => e.Type == EventTypes.Member && e.StateKey == e.Sender && e.Membership == Membership.Join && server.IsLocal(e.Sender))
            ?.RoomPosition;

    private async Task<BackfillState> LoadBackfillStateAsync(long firstLogPosition, StoredEvent? copyVisibility)
    {
        var progress = await store.Backfill.GetProgressAsync(RoomId, CancellationToken.None);
        var historyEvents = new List<StoredEvent>();
        for (var from = 0L; ;)
        {
            var page = await store.Backfill.GetEventsAsync(RoomId, from, Direction.Backward, 500, CancellationToken.None);
            if (page.Count == 0) break;
            historyEvents.AddRange(page.Where(e => e.Type == EventTypes.Member || (e.Type == EventTypes.HistoryVisibility && e.StateKey == "")));
            from = page[^1].RoomPosition;
        }
        historyEvents.Reverse();
        return new BackfillState(firstLogPosition, progress.OldestPosition, progress.Complete, [.. historyEvents], copyVisibility);
    }

    /// <summary>The room's history for visibility, with the backfilled history before it when the room has one.</summary>
    private async Task<RoomHistory> GetHistoryAsync(RoomSnapshot snapshot, BackfillState? backfill)
    {
        var history = await GetHistoryAsync(snapshot);
        return backfill is null ? history : history.WithEarlierHistory(backfill.HistoryEvents, backfill.VisibilityBefore);
    }

    /// <summary>
    /// Fetches the next older batch of the room's history from a server with joined members, unless a concurrent
    /// call did while this one waited (<paramref name="seen"/> is the state the caller paged through).
    /// </summary>
    private async Task<BackfillOutcome> BackfillAsync(RoomSnapshot snapshot, BackfillState seen)
    {
        await _backfillGate.WaitAsync();
        try
        {
            var current = _backfill ?? seen;
            if (current.Complete || current.OldestPosition != seen.OldestPosition) return BackfillOutcome.Progressed;

            var (from, candidates) = await BackfillStartAsync(current);
            if (from.Count == 0) return await StoreBackfillAsync(current, [], complete: true);
            foreach (var candidate in candidates)
            {
                if (await TryBackfillFromAsync(snapshot.Version, candidate, from, current.FirstLogPosition) is not { } answer) continue;
                if (answer.New == 0) return await StoreBackfillAsync(current, [], complete: true);
                if (answer.Accepted.Count == 0) continue; // Only events that failed the checks: another server may do better.
                var reachedCreation = answer.Accepted.Any(e => e.Type == EventTypes.Create && e.StateKey == "");
                return await StoreBackfillAsync(current, answer.Accepted, reachedCreation);
            }
            return BackfillOutcome.Failed;
        }
        finally
        {
            _backfillGate.Release();
        }
    }

    private async Task<BackfillOutcome> StoreBackfillAsync(BackfillState current, IReadOnlyList<BackfilledEvent> newestFirst, bool complete)
    {
        await store.Backfill.AddOlderAsync(RoomId, newestFirst, complete, CancellationToken.None);
        _backfill = await LoadBackfillStateAsync(current.FirstLogPosition, current.CopyVisibility);
        logger.LogInformation("Backfilled {Count} events of {RoomId}{Complete}", newestFirst.Count, RoomId, complete ? "; its history is complete" : "");
        return BackfillOutcome.Progressed;
    }

    /// <summary>
    /// Where the next batch starts (the previous events of the oldest event held: the oldest backfilled one, else the
    /// copy's join) and whom to ask: the server the join went through (its signature is on the join), then the
    /// other servers with joined members.
    /// </summary>
    private async Task<(IReadOnlyList<string> From, IReadOnlyList<string> Servers)> BackfillStartAsync(BackfillState state)
    {
        var join = (await store.Events.GetRoomEventsAsync(RoomId, state.FirstLogPosition - 1, Direction.Forward, 1, CancellationToken.None)).Single();
        var oldest = state.OldestPosition < 0
            ? (await store.Backfill.GetEventsAsync(RoomId, state.OldestPosition - 1, Direction.Forward, 1, CancellationToken.None)).Single()
            : join;
        var joinPdu = ToPdu(join);
        var signers = joinPdu.Json.TryGetProperty("signatures", out var signatures) && signatures.ValueKind == JsonValueKind.Object
            ? signatures.EnumerateObject().Select(p => p.Name)
            : [];
        var servers = signers.Concat(await GetJoinedServersAsync()).Where(name => name != server.Name).Distinct(StringComparer.Ordinal).ToList();
        return (ToPdu(oldest).PrevEvents, servers);
    }

    /// <summary>A failure of one server's answer of any kind moves on to the next server: a page never fails for it.</summary>
    private async Task<BackfillAnswer?> TryBackfillFromAsync(RoomVersion version, string destination, IReadOnlyList<string> from, long firstLogPosition)
    {
        try
        {
            return await BackfillFromAsync(version, destination, from, firstLogPosition);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Backfill of {RoomId} from {Server} failed", RoomId, destination);
            return null;
        }
    }

    /// <param name="New">Events of the answer this server did not hold yet (valid or not).</param>
    /// <param name="Accepted">Those that passed every check, newest first.</param>
    private sealed record BackfillAnswer(int New, IReadOnlyList<BackfilledEvent> Accepted);

    /// <summary>One backfill request and its checks; null when the server cannot be reached or gives no valid answer.</summary>
    private async Task<BackfillAnswer?> BackfillFromAsync(RoomVersion version, string destination, IReadOnlyList<string> from, long firstLogPosition)
    {
        var query = string.Join("&", from.Select(id => "v=" + Uri.EscapeDataString(id))) + "&limit=" + BackfillBatchSize;
        JsonArray pdus;
        try
        {
            var response = await ServiceProvider.GetRequiredService<FederationClient>().SendAsync(destination, HttpMethod.Get,
                $"/_matrix/federation/v1/backfill/{Uri.EscapeDataString(RoomId)}?{query}", null, CancellationToken.None);
            if (!response.IsSuccess)
            {
                logger.LogInformation("Backfill of {RoomId} from {Server} answered {Status}", RoomId, destination, (int)response.StatusCode);
                return null;
            }
            if (JsonNode.Parse(response.Body)?["pdus"] is not JsonArray array) return null;
            pdus = array;
        }
        catch (Exception e) when (e is FederationRequestException or JsonException)
        {
            logger.LogInformation(e, "Backfill of {RoomId} from {Server} failed", RoomId, destination);
            return null;
        }

        var fresh = new List<BuiltEvent>();
        var redacted = new HashSet<string>(StringComparer.Ordinal);
        var newCount = 0;
        foreach (var node in pdus.Take(BackfillBatchSize))
        {
            if (node is not JsonObject pdu) continue;
            pdu = (JsonObject)pdu.DeepClone();
            pdu.Remove("unsigned");
            if (EventIdOf(version, pdu) is not { } eventId) continue;
            if (await IsHeldAlreadyAsync(eventId.Value, firstLogPosition) || fresh.Any(e => e.EventId == eventId)) continue;
            newCount++;
            try
            {
                PduFormat.Check(version, pdu);
                if (pdu["room_id"]!.GetValue<string>() != RoomId) throw MatrixRequestException.InvalidParam("The event is not for this room.");
                if (!ReceivedJoinEvent.HasValidContentHash(version, pdu)) redacted.Add(eventId.Value);
                fresh.Add(await VerifiedAsync(version, eventId, pdu));
            }
            catch (Exception e) when (e is MatrixRequestException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                logger.LogInformation("Backfilled event {EventId} of {RoomId} from {Server} dropped: {Reason}", eventId, RoomId, destination, e.Message);
            }
        }

        // Oldest first, so that an event's auth events of the same batch are judged before it.
        var accepted = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        var ordered = fresh.OrderBy(e => DepthOf(e.Pdu)).ThenBy(e => TimestampOf(e.Pdu)).ThenBy(e => e.EventId.Value, StringComparer.Ordinal).ToList();
        var kept = new List<BuiltEvent>();
        foreach (var e in ordered)
        {
            try
            {
                await AuthoriseBackfilledAsync(version, e.Pdu, accepted);
                accepted[e.EventId.Value] = e.Pdu;
                kept.Add(e);
            }
            catch (MatrixRequestException refused)
            {
                logger.LogInformation("Backfilled event {EventId} of {RoomId} from {Server} dropped: {Reason}", e.EventId, RoomId, destination, refused.Message);
            }
        }
        kept.Reverse();
        return new BackfillAnswer(newCount, kept.Select(e => ToBackfilled(e, redacted.Contains(e.EventId.Value))).ToList());
    }

    /// <summary>
    /// Held here already: backfilled before, or in the log from the copy's join on. The copy's own state and auth-chain
    /// events (below the join) are not: they are stored again as backfilled history, in their place in the timeline.
    /// </summary>
    private async Task<bool> IsHeldAlreadyAsync(string eventId, long firstLogPosition)
    {
        if (await store.Backfill.GetEventAsync(RoomId, eventId, CancellationToken.None) is not null) return true;
        var logged = await store.Events.GetEventAsync(eventId, CancellationToken.None);
        return logged is not null && (logged.RoomId != RoomId || logged.RoomPosition >= firstLogPosition);
    }

    /// <summary>
    /// The spec's check of an event against its own auth events (as <see cref="AuthoriseByAuthEventsAsync"/> for a
    /// received PDU), whose auth events may be of the same batch, backfilled before, or in the log.
    /// </summary>
    private async Task AuthoriseBackfilledAsync(RoomVersion version, Pdu pdu, Dictionary<string, Pdu> batch)
    {
        var wanted = AuthEventSelector.RequiredStateKeys(pdu.Type, pdu.StateKey, pdu.Sender, JsonObject.Create(pdu.Content)!);
        var authState = new Dictionary<StateEventKey, Pdu>();
        foreach (var id in pdu.AuthEvents)
        {
            var authEvent = batch.GetValueOrDefault(id) ?? await BackfilledEventAsync(id) ?? await StoredEventOfRoomAsync(id)
                ?? throw MatrixRequestException.Forbidden($"The auth event {id} is not known here.");
            if (authEvent.StateKey is not { } stateKey || !wanted.Contains(new StateEventKey(authEvent.Type, stateKey)))
                throw MatrixRequestException.Forbidden($"The auth event {id} is not one the event's auth needs.");
            if (!authState.TryAdd(new StateEventKey(authEvent.Type, stateKey), authEvent))
                throw MatrixRequestException.Forbidden($"The auth events hold two events for ({authEvent.Type}, {stateKey}).");
        }
        var auth = EventAuthorizer.Authorize(version, pdu, authState);
        if (!auth.IsAllowed) throw MatrixRequestException.Forbidden(auth.Reason!);
    }

    private async Task<Pdu?> BackfilledEventAsync(string eventId) =>
        Identifiers.EventId.TryParse(eventId, out _) && await store.Backfill.GetEventAsync(RoomId, eventId, CancellationToken.None) is { } stored
            ? ToPdu(stored)
            : null;

    private static BackfilledEvent ToBackfilled(BuiltEvent e, bool redacted) => new(
        e.EventId.Value, e.Pdu.Type, e.Pdu.StateKey, e.Pdu.Sender.Value, TimestampOf(e.Pdu),
        e.Pdu.Type == EventTypes.Member && e.Pdu.StateKey is not null ? e.Pdu.GetContentString("membership") : null,
        redacted, e.Json);

    private static long DepthOf(Pdu pdu) => pdu.Json.TryGetProperty("depth", out var depth) && depth.TryGetInt64(out var value) ? value : 0;

    private static long TimestampOf(Pdu pdu) =>
        pdu.Json.TryGetProperty("origin_server_ts", out var ts) && ts.TryGetInt64(out var value) ? value : 0;
}
