using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>Content hashes and reference hashes (event IDs) as in the server-server spec.</summary>
public static class EventHashing
{
    /// <summary>SHA-256 of the canonical event without <c>unsigned</c>, <c>signatures</c> and <c>hashes</c>.</summary>
    /// <param name="strict">False for room versions before 6, whose events need not be strict canonical JSON.</param>
    public static byte[] ComputeContentHash(JsonObject pdu, bool strict = true)
    {
        var copy = (JsonObject)pdu.DeepClone();
        copy.Remove("unsigned");
        copy.Remove("signatures");
        copy.Remove("hashes");
        return SHA256.HashData(CanonicalJson.Encode(copy, strict));
    }

    /// <summary>SHA-256 of the canonical redacted event without <c>signatures</c>, <c>age_ts</c> and <c>unsigned</c>.</summary>
    public static byte[] ComputeReferenceHash(RoomVersion version, JsonObject pdu)
    {
        var redacted = EventRedactor.Redact(version, pdu);
        redacted.Remove("signatures");
        redacted.Remove("age_ts");
        redacted.Remove("unsigned");
        return SHA256.HashData(CanonicalJson.Encode(redacted, version.StrictCanonicalJson));
    }

    /// <summary>
    /// The event ID of a PDU of room version 3 or later (which does not contain its own ID): its reference hash,
    /// in standard base64 for v3 and URL-safe base64 from v4 on. In v1 and v2 the ID is not derived from the
    /// event but chosen by its server and written into it (see <see cref="EventBuilder"/>).
    /// </summary>
    public static EventId ComputeEventId(RoomVersion version, JsonObject pdu) => version.EventIdFormat switch
    {
        EventIdFormat.ReferenceHashUrlSafe => EventId.FromReferenceHash(ComputeReferenceHash(version, pdu)),
        EventIdFormat.ReferenceHashBase64 => EventId.FromReferenceHashStandardBase64(ComputeReferenceHash(version, pdu)),
        _ => pdu["event_id"] is JsonValue id && id.TryGetValue<string>(out var text) && EventId.TryParse(text, out var parsed)
            ? parsed
            : throw new ArgumentException($"A room version {version} event carries its own event_id.", nameof(pdu)),
    };

    public static EventId ComputeEventId(RoomVersion version, JsonElement pdu) =>
        ComputeEventId(version, AsObject(pdu));

    /// <summary>True when <c>hashes.sha256</c> matches the event; false when missing or different.</summary>
    public static bool HasValidContentHash(JsonObject pdu)
    {
        if (pdu["hashes"] is not JsonObject hashes
            || hashes["sha256"] is not JsonValue value
            || !value.TryGetValue<string>(out var stored))
            return false;
        return stored == EncodeUnpaddedBase64(ComputeContentHash(pdu));
    }

    public static bool HasValidContentHash(JsonElement pdu) => HasValidContentHash(AsObject(pdu));

    /// <summary>Standard (not URL-safe) base64 without '=' padding, as used for hashes.</summary>
    public static string EncodeUnpaddedBase64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static JsonObject AsObject(JsonElement pdu) =>
        JsonObject.Create(pdu) ?? throw new ArgumentException("An event must be a JSON object.", nameof(pdu));
}
