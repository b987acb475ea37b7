using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms.Gaps;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A received event whose previous events this server does not hold follows a gap (lost transactions, an origin that
/// sends only its newest event after an outage). The room asks the origin for the gap's events with repeated
/// <c>/get_missing_events</c> rounds, each from the ends still open, until the events connect to ones it holds or
/// <see cref="FederationInboundOptions.MaxGapEvents"/> is reached; a connected gap is checked and appended oldest
/// first, each event as a received PDU. Past the bound the gap is bridged by its state (RoomGrain.Forks.cs). See
/// docs/adr/0048-gap-history.md.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>The most events asked for in one round: the most this server answers, and as many as servers commonly give.</summary>
    internal const int MissingEventsPerRequest = 100;

    /// <summary>How long a PDU waits for another gap fill of the room before the transaction is failed as temporary.</summary>
    private static readonly TimeSpan GapFillWait = TimeSpan.FromSeconds(20);

    /// <summary>One gap fill at a time: a second one finds what the first appended instead of fetching it again.</summary>
    private readonly SemaphoreSlim _gapFillGate = new(1, 1);

    private int MaxGapEvents =>
        ServiceProvider.GetService<IOptions<FederationInboundOptions>>()?.Value.MaxGapEvents ?? FederationInboundOptions.DefaultMaxGapEvents;

    /// <summary>
    /// Fills the gap before <paramref name="pdu"/> when one of its previous events is not held here. Returns with the
    /// gap's events appended, or with nothing appended when the origin could not give a connected gap within the bound
    /// (the event is then placed through the state at its previous events). Throws the PDU's refusal when an event of
    /// the gap is refused (the events before it, checked and connected, stay), and <see cref="RoomBusyException"/>
    /// when the origin fails meanwhile (nothing appended; the origin sends its transaction again).
    /// </summary>
    private async Task FetchMissingPreviousEventsAsync(string origin, RoomVersion version, Pdu pdu)
    {
        if (!await HasUnheldAsync(pdu.PrevEvents)) return;
        if (!await _gapFillGate.WaitAsync(GapFillWait))
            throw new RoomBusyException("Another gap of the room is being filled; try again.");
        try
        {
            if (!await HasUnheldAsync(pdu.PrevEvents)) return; // The fill that ran meanwhile brought them.
            var gap = await FetchGapAsync(origin, version, pdu);
            if (gap is null) return;
            await AppendGapAsync(origin, version, gap);
        }
        finally
        {
            _gapFillGate.Release();
        }
    }

    private async Task<bool> HasUnheldAsync(IReadOnlyList<string> eventIds)
    {
        foreach (var id in eventIds)
            if (!await IsHeldAsync(id)) return true;
        return false;
    }

    /// <summary>An event of this room the room holds: in the timeline, soft-failed or rejected (which events may cite, docs/adr/0047).</summary>
    private async Task<bool> IsHeldAsync(string eventId) =>
        await LookUpEventOfRoomAsync(eventId) is not null || await RejectedEventOfRoomAsync(eventId) is not null;

    /// <summary>
    /// The gap's events oldest first, fetched in rounds: <c>earliest_events</c> the room's forward extremities,
    /// <c>latest_events</c> the events whose previous events are still missing (the received event in the first round).
    /// Null when the origin gives no more before the gap connects, or the bound is reached (nothing is kept then).
    /// </summary>
    private async Task<List<MissingEvent>?> FetchGapAsync(string origin, RoomVersion version, Pdu pdu)
    {
        var bound = MaxGapEvents;
        var extremities = ExtremitiesOf(_writer.Current!);
        var earliest = extremities.Select(e => e.EventId.Value).ToList();
        var graph = new MissingEventGraph();
        var notHeld = new HashSet<string>(StringComparer.Ordinal);
        List<string> latest = [pdu.EventId.Value];
        for (var round = 1; ; round++)
        {
            if (graph.Count >= bound)
            {
                logger.LogInformation("The gap before {EventId} of {RoomId} is longer than {Bound} events: bridged by its state", pdu.EventId, RoomId, bound);
                return null;
            }
            var limit = Math.Min(MissingEventsPerRequest, bound - graph.Count);
            if (await RequestMissingEventsAsync(origin, earliest, latest, limit) is not { } answer) return null;

            var added = 0;
            foreach (var node in answer.Take(limit))
            {
                if (ParseMissingEvent(version, node) is not { } missing || missing.EventId == pdu.EventId || graph.Contains(missing.EventId.Value)) continue;
                if (await IsHeldAsync(missing.EventId.Value)) continue;
                graph.TryAdd(missing);
                added++;
            }

            var (reachable, openEnds) = graph.Walk(pdu.EventId.Value, pdu.PrevEvents);
            var stillMissing = new List<OpenEnd>();
            foreach (var end in openEnds)
            {
                if (notHeld.Contains(end.Missing)) stillMissing.Add(end);
                else if (!await IsHeldAsync(end.Missing))
                {
                    notHeld.Add(end.Missing);
                    stillMissing.Add(end);
                }
            }
            if (stillMissing.Count == 0)
            {
                logger.LogInformation("The gap before {EventId} of {RoomId}: {Count} events in {Rounds} rounds from {Origin}", pdu.EventId, RoomId, reachable.Count, round, origin);
                return MissingEventGraph.OldestFirst(reachable);
            }
            if (added == 0) return null; // The origin has nothing more to give: the gap stays open.
            latest = stillMissing.Select(end => end.CitedBy).Distinct(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>An event of an answer as far as the walk needs it (id, room, previous events, depth); null for anything else.</summary>
    private MissingEvent? ParseMissingEvent(RoomVersion version, JsonNode? node)
    {
        if (node is not JsonObject raw) return null;
        raw.Remove("unsigned");
        if (EventIdOf(version, raw) is not { } eventId) return null;
        if (raw["room_id"] is not JsonValue room || !room.TryGetValue<string>(out var roomId) || roomId != RoomId) return null;
        if (PrevEventIdsOf(version, raw) is not { } prevs) return null;
        var depth = raw["depth"] is JsonValue value && value.TryGetValue<long>(out var d) ? d : 0;
        return new MissingEvent(eventId, Encoding.UTF8.GetBytes(raw.ToJsonString()), prevs, depth);
    }

    /// <summary>
    /// One round. A failure of the origin (unreachable, 5xx, 429) fails the PDU as temporary; any other refusal or a
    /// malformed answer means it gives nothing (null).
    /// </summary>
    private async Task<JsonArray?> RequestMissingEventsAsync(string origin, List<string> earliest, List<string> latest, int limit)
    {
        var request = new JsonObject
        {
            ["earliest_events"] = new JsonArray(earliest.Select(id => (JsonNode)id).ToArray()),
            ["latest_events"] = new JsonArray(latest.Select(id => (JsonNode)id).ToArray()),
            ["limit"] = limit,
            // No depth bounds the walk: a gap beside events of this server branches off below its extremities. The limit does.
            ["min_depth"] = 0,
        };
        FederationResponse response;
        try
        {
            response = await ServiceProvider.GetRequiredService<FederationClient>().SendAsync(origin, HttpMethod.Post,
                $"/_matrix/federation/v1/get_missing_events/{Uri.EscapeDataString(RoomId)}", request, CancellationToken.None);
        }
        catch (FederationRequestException e)
        {
            logger.LogInformation(e, "Missing events of {RoomId} could not be had from {Origin}", RoomId, origin);
            throw new RoomBusyException($"The missing events could not be had from {origin}; send the transaction again.");
        }
        if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
            throw new RoomBusyException($"{origin} failed to give the missing events ({(int)response.StatusCode}); send the transaction again.");
        if (!response.IsSuccess) return null;
        try
        {
            return JsonNode.Parse(response.Body)?["events"] as JsonArray;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Each event of the gap through the checks of a received PDU (Policy Server included), then appended (on the linear
    /// path or as a fork), oldest first. One the authorization rules reject is kept as rejected, as a received PDU is
    /// (RoomGrain.Rejections.cs), and the events after it may still cite it. Any other refusal (format, signatures) ends
    /// the fill: the events before it stay, and the PDU that needed it is refused.
    /// </summary>
    private async Task AppendGapAsync(string origin, RoomVersion version, List<MissingEvent> gap)
    {
        foreach (var missing in gap)
        {
            try
            {
                var pdu = (JsonObject)JsonNode.Parse(missing.Json)!;
                PduFormat.Check(version, pdu);
                if (await IsReceivedAlreadyAsync(missing.EventId)) continue;
                var verified = await VerifiedAsync(version, missing.EventId, pdu);
                // Soft-failed for want of the Policy Server's signature: kept aside, and the events after it can cite it.
                if (await RecommendedByPolicyServerAsync(_writer.Current!, verified) is not { } received) continue;
                try
                {
                    await AppendReceivedAsync(origin, received);
                }
                catch (MatrixRequestException rejected) when (rejected.IsRejection())
                {
                    await RememberRejectedAsync(received, rejected);
                    logger.LogInformation("Missing event {EventId} of {RoomId} from {Origin} rejected: {Reason}", missing.EventId, RoomId, origin, rejected.Message);
                }
            }
            catch (MatrixRequestException rejectedBefore) when (rejectedBefore.IsRejection())
            {
                // Rejected before (IsReceivedAlreadyAsync): held as rejected already.
            }
            catch (MatrixRequestException refused)
            {
                logger.LogInformation("Missing event {EventId} of {RoomId} from {Origin} refused: {Reason}", missing.EventId, RoomId, origin, refused.Message);
                throw MatrixRequestException.NotFound($"A previous event is not known here: the missing event {missing.EventId} was refused ({refused.Message}).");
            }
        }
    }
}
