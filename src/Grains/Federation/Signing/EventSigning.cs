using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Federation.Signing;

/// <summary>
/// Signing and verifying events (server-server spec, "Signing events"): the signature covers the event as the room
/// version's redaction algorithm leaves it, content hash included, so that a redacted copy still verifies; it is
/// then copied into the full event. Signatures are outside both hashes, so signing never changes an event id.
/// </summary>
public static class EventSigning
{
    /// <summary>Adds the key's signature to <paramref name="pdu"/> (in place), whose <c>hashes</c> must already be set.</summary>
    /// <exception cref="CanonicalJsonException">The event cannot be encoded as canonical JSON of its room version.</exception>
    public static void Sign(RoomVersion version, JsonObject pdu, ServerSigningKey key)
    {
        // The redacted copy is ours, so it is stripped in place rather than copied once more.
        var redacted = EventRedactor.Redact(version, pdu);
        redacted.Remove("signatures");
        redacted.Remove("unsigned");
        var signature = UnpaddedBase64.Encode(key.Sign(CanonicalJson.Encode(redacted, version.StrictCanonicalJson)));
        JsonSigning.AddSignature(pdu, key.ServerName, key.KeyId, signature);
    }

    /// <summary>
    /// True when the event carries a valid signature of <paramref name="server"/> with <paramref name="keyId"/> under
    /// <paramref name="publicKey"/>, checked over the redacted event of its room version.
    /// </summary>
    public static bool Verify(RoomVersion version, JsonObject pdu, string server, string keyId, ReadOnlySpan<byte> publicKey)
    {
        var redacted = EventRedactor.Redact(version, pdu);
        return JsonSigning.Verify(redacted, server, keyId, publicKey, version.StrictCanonicalJson);
    }

    /// <summary>
    /// The servers whose signatures a received event needs (spec, "Validating hashes and signatures on received
    /// events"): the sender's server, except for an invite made from a third-party invite; in room versions 1 and 2
    /// the server named in the event id; and for a join authorised through a restricted join rule, the server of
    /// <c>join_authorised_via_users_server</c>. Null when a field it needs is missing or malformed.
    /// </summary>
    public static IReadOnlySet<string>? RequiredSigners(RoomVersion version, JsonObject pdu)
    {
        if (StringField(pdu, "sender") is not { } senderText || !UserId.TryParse(senderText, out var sender)) return null;
        var content = pdu["content"] as JsonObject;
        var type = StringField(pdu, "type");
        var membership = content is null ? null : StringField(content, "membership");
        var isMember = type == EventTypes.Member;

        var servers = new HashSet<string>(StringComparer.Ordinal);
        var fromThirdPartyInvite = isMember && membership == Membership.Invite && content!["third_party_invite"] is not null;
        if (!fromThirdPartyInvite) servers.Add(sender.Server.ToString());

        if (version.EventIdInEvent)
        {
            var eventId = StringField(pdu, "event_id");
            var colon = eventId?.IndexOf(':') ?? -1;
            if (colon < 0 || colon == eventId!.Length - 1) return null;
            servers.Add(eventId[(colon + 1)..]);
        }

        if (version.RestrictedJoinRule && isMember && membership == Membership.Join
            && content!["join_authorised_via_users_server"] is { } authoriser)
        {
            if (authoriser is not JsonValue value || value.GetValueKind() != JsonValueKind.String
                || !UserId.TryParse(value.GetValue<string>(), out var authorisingUser))
                return null;
            servers.Add(authorisingUser.Server.ToString());
        }
        return servers;
    }

    private static string? StringField(JsonObject json, string name) =>
        json[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
