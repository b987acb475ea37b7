using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>Content hashes and reference hashes (event IDs) as in the server-server spec.</summary>
public static class EventHashing
{
    /// <summary>SHA-256 of the canonical event without <c>unsigned</c>, <c>signatures</c> and <c>hashes</c>.</summary>
    public static byte[] ComputeContentHash(JsonObject pdu)
    {
        var copy = (JsonObject)pdu.DeepClone();
        copy.Remove("unsigned");
        copy.Remove("signatures");
        copy.Remove("hashes");
        return SHA256.HashData(CanonicalJson.Encode(copy));
    }

    /// <summary>SHA-256 of the canonical redacted event without <c>signatures</c>, <c>age_ts</c> and <c>unsigned</c>.</summary>
    public static byte[] ComputeReferenceHash(RoomVersion version, JsonObject pdu)
    {
        var redacted = EventRedactor.Redact(version, pdu);
        redacted.Remove("signatures");
        redacted.Remove("age_ts");
        redacted.Remove("unsigned");
        return SHA256.HashData(CanonicalJson.Encode(redacted));
    }

    /// <summary>The event ID of a PDU (which, from room version 3 on, does not contain its own ID).</summary>
    public static EventId ComputeEventId(RoomVersion version, JsonObject pdu) =>
        EventId.FromReferenceHash(ComputeReferenceHash(version, pdu));

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
