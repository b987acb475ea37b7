using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Transactions;
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
    public static (EventId EventId, JsonObject Pdu) Check(RoomVersion version, string roomId, string origin, string pathEventId, ReadOnlySpan<byte> body) =>
        Check(version, roomId, origin, pathEventId, body, Membership.Join);

    /// <summary>The same checks for a member event of its own sender with <paramref name="membership"/> (a leave for <c>/send_leave</c>).</summary>
    public static (EventId EventId, JsonObject Pdu) Check(
        RoomVersion version, string roomId, string origin, string pathEventId, ReadOnlySpan<byte> body, string membership)
    {
        var pdu = PduFormat.Parse(version, body);

        if (String(pdu, "room_id") != roomId) throw InvalidParam("The event is not for this room.");
        if (String(pdu, "type") != EventTypes.Member) throw InvalidParam($"The event is not an {EventTypes.Member} event.");
        var content = (JsonObject)pdu["content"]!;
        if (String(content, "membership") != membership) throw InvalidParam($"The event's membership is not {membership}.");
        var sender = String(pdu, "sender")!;
        if (String(pdu, "state_key") != sender) throw InvalidParam($"The state_key of a {membership} must be its sender.");
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

    private static string? String(JsonObject json, string key) =>
        json[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static MatrixRequestException BadJson(string message) => MatrixRequestException.BadJson(message);

    private static MatrixRequestException InvalidParam(string message) => MatrixRequestException.InvalidParam(message);
}
