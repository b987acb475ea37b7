using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Federation.Transactions;

/// <summary>
/// The format of a PDU received from another server, as its room version defines it: a JSON object in (strict, from
/// v6) canonical JSON of at most 64 KiB, with the keys, types and integer ranges of the PDU schema and at most 20 prev
/// and 10 auth event references of the version's reference format. Refusals are <c>M_BAD_JSON</c>, <c>M_TOO_LARGE</c>.
/// </summary>
public static class PduFormat
{
    /// <summary>The event as received, without <c>unsigned</c> (which no hash or signature covers).</summary>
    public static JsonObject Parse(RoomVersion version, ReadOnlySpan<byte> body)
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
        Check(version, pdu);
        return pdu;
    }

    /// <summary>Checks an event already parsed (and without <c>unsigned</c>).</summary>
    public static void Check(RoomVersion version, JsonObject pdu)
    {
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

        foreach (var key in (string[])["type", "room_id", "sender"])
        {
            if (String(pdu, key) is null) throw BadJson($"{key} must be a string.");
        }
        if (pdu["state_key"] is not null && String(pdu, "state_key") is null) throw BadJson("state_key must be a string.");
        if (!UserId.TryParse(String(pdu, "sender")!, out _)) throw BadJson("The sender is not a user ID.");
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
}
