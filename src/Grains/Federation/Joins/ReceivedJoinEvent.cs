using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Federation.Joins;

/// <summary>
/// The checks of a join event received through <c>/send_join</c> that need neither keys nor room state: the PDU format
/// of the room version, the send_join rules (a join of its own sender, a user of the requesting server, in this room),
/// and that the event id of the path is the event's. Refusals are 400: <c>M_BAD_JSON</c> for a malformed event,
/// <c>M_INVALID_PARAM</c> for the rules the spec lists for send_join, <c>M_TOO_LARGE</c> over 64 KiB.
/// </summary>
public static class ReceivedJoinEvent
{
    /// <summary>The event as received, without <c>unsigned</c> (which no hash or signature covers), and its id.</summary>
    public static (EventId EventId, JsonObject Pdu) Check(RoomVersion version, string roomId, string origin, string pathEventId, ReadOnlySpan<byte> body)
    {
        JsonObject pdu;
        try
        {
            pdu = JsonNode.Parse(body) as JsonObject ?? throw BadJson("The event must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw BadJson($"The event is not valid JSON: {e.Message}");
        }
        pdu.Remove("unsigned");

        byte[] canonical;
        try
        {
            canonical = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        }
        catch (CanonicalJsonException e)
        {
            throw BadJson($"The event is not canonical JSON of room version {version.Id}: {e.Message}");
        }
        if (canonical.Length > EventBuilder.MaxEventBytes)
            throw new MatrixRequestException("M_TOO_LARGE", $"The event exceeds {EventBuilder.MaxEventBytes} bytes.");

        CheckFormat(version, pdu);

        if (String(pdu, "room_id") != roomId) throw InvalidParam("The event is not for this room.");
        if (String(pdu, "type") != EventTypes.Member) throw InvalidParam($"The event is not an {EventTypes.Member} event.");
        var content = (JsonObject)pdu["content"]!;
        if (String(content, "membership") != Membership.Join) throw InvalidParam("The event's membership is not join.");
        var sender = String(pdu, "sender")!;
        if (String(pdu, "state_key") != sender) throw InvalidParam("The state_key of a join must be its sender.");
        if (!UserId.TryParse(sender, out var senderId)) throw BadJson("The sender is not a user ID.");
        if (senderId.Server.ToString() != origin) throw InvalidParam($"The sender {sender} is not a user of {origin}.");

        EventId eventId;
        try
        {
            eventId = EventHashing.ComputeEventId(version, pdu);
        }
        catch (Exception e) when (e is ArgumentException or CanonicalJsonException)
        {
            throw BadJson($"The event has no valid event ID: {e.Message}");
        }
        if (eventId.Value != pathEventId) throw InvalidParam($"The event's ID is {eventId}, not {pathEventId}.");
        return (eventId, pdu);
    }

    /// <summary>True when <c>hashes.sha256</c> is the content hash of the event as its room version encodes it.</summary>
    public static bool HasValidContentHash(RoomVersion version, JsonObject pdu) =>
        pdu["hashes"] is JsonObject hashes && String(hashes, "sha256") is { } claimed
        && claimed == EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson));

    private static void CheckFormat(RoomVersion version, JsonObject pdu)
    {
        foreach (var key in (string[])["type", "room_id", "sender", "state_key"])
        {
            if (String(pdu, key) is null) throw BadJson($"{key} must be a string.");
        }
        if (version.EventIdInEvent && String(pdu, "event_id") is null) throw BadJson("event_id must be a string in this room version.");
        if (pdu["content"] is not JsonObject) throw BadJson("content must be an object.");
        if (pdu["hashes"] is not JsonObject hashes || String(hashes, "sha256") is null) throw BadJson("hashes.sha256 must be a string.");
        if (pdu["signatures"] is not JsonObject) throw BadJson("signatures must be an object.");
        foreach (var key in (string[])["depth", "origin_server_ts"])
        {
            if (pdu[key] is not JsonValue value || !value.TryGetValue<long>(out var number) || number < 0 || number > CanonicalJson.MaxSafeInteger)
                throw BadJson($"{key} must be an integer between 0 and 2^53 - 1.");
        }
        CheckReferences(version, pdu, "prev_events", EventBuilder.MaxPrevEvents);
        CheckReferences(version, pdu, "auth_events", EventBuilder.MaxAuthEvents);
    }

    /// <summary>Bare event ids from room version 3 on; <c>[event_id, {"sha256": hash}]</c> pairs in 1 and 2.</summary>
    private static void CheckReferences(RoomVersion version, JsonObject pdu, string key, int max)
    {
        if (pdu[key] is not JsonArray references) throw BadJson($"{key} must be an array.");
        if (references.Count > max) throw BadJson($"{key} may hold at most {max} events.");
        foreach (var reference in references)
        {
            var valid = version.EventIdInEvent
                ? reference is JsonArray { Count: 2 } pair && pair[0] is JsonValue id && id.GetValueKind() == JsonValueKind.String
                  && EventId.IsValid(id.GetValue<string>()) && pair[1] is JsonObject
                : reference is JsonValue value && value.GetValueKind() == JsonValueKind.String && EventId.IsValid(value.GetValue<string>());
            if (!valid) throw BadJson($"{key} does not hold event references of room version {version.Id}.");
        }
    }

    private static string? String(JsonObject json, string key) =>
        json[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static MatrixRequestException BadJson(string message) => MatrixRequestException.BadJson(message);

    private static MatrixRequestException InvalidParam(string message) => MatrixRequestException.InvalidParam(message);
}
