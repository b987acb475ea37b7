using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;

namespace HomeServer.Grains.Events;

/// <summary>
/// Rule 4.4.1 of the authorization rules (the same in every room version): an invite whose content carries
/// <c>third_party_invite</c> is allowed by the identity server's signature over <c>signed</c> instead of the sender's
/// power, when it matches the room's pending <c>m.room.third_party_invite</c> with state key <c>signed.token</c>.
/// </summary>
public static class ThirdPartyInviteRules
{
    public static AuthResult Authorize(Pdu pdu, IReadOnlyDictionary<StateEventKey, Pdu> state, string target)
    {
        // 4.4.1.1
        if (state.MembershipOf(target) == Membership.Ban)
            return AuthResult.Reject("The invited user is banned.");
        var thirdPartyInvite = pdu.Content.GetProperty("third_party_invite");
        // 4.4.1.2
        if (thirdPartyInvite.ValueKind != JsonValueKind.Object
            || !thirdPartyInvite.TryGetProperty("signed", out var signed) || signed.ValueKind != JsonValueKind.Object)
            return AuthResult.Reject("third_party_invite has no signed object.");
        // 4.4.1.3
        if (StringProperty(signed, "mxid") is not { } mxid || StringProperty(signed, "token") is not { } token)
            return AuthResult.Reject("third_party_invite.signed needs mxid and token.");
        // 4.4.1.4
        if (mxid != target)
            return AuthResult.Reject("third_party_invite.signed.mxid is not the invited user.");
        // 4.4.1.5
        if (state.Get(new StateEventKey(EventTypes.ThirdPartyInvite, token)) is not { } pending)
            return AuthResult.Reject("The room has no m.room.third_party_invite for this token.");
        // 4.4.1.6
        if (pending.Sender != pdu.Sender)
            return AuthResult.Reject("The invite's sender did not send the m.room.third_party_invite.");
        // 4.4.1.7, 4.4.1.8
        return IsSignedByAnyKeyOf(signed, pending.Content)
            ? AuthResult.Allow
            : AuthResult.Reject("No signature of third_party_invite.signed verifies with a key of the m.room.third_party_invite.");
    }

    /// <summary>
    /// True when a signature in <paramref name="signed"/> verifies with one of the public keys of the
    /// <c>m.room.third_party_invite</c> content: <c>public_key</c> and each <c>public_keys[].public_key</c>.
    /// </summary>
    public static bool IsSignedByAnyKeyOf(JsonElement signed, JsonElement thirdPartyInviteContent) =>
        KeysSigning(signed, thirdPartyInviteContent).Any();

    /// <summary>The keys of the <c>m.room.third_party_invite</c> content with which a signature of <paramref name="signed"/> verifies.</summary>
    public static IEnumerable<ThirdPartyInviteKey> KeysSigning(JsonElement signed, JsonElement thirdPartyInviteContent)
    {
        if (JsonNode.Parse(signed.GetRawText()) is not JsonObject signedObject || signedObject["signatures"] is not JsonObject signatures)
            yield break;
        var signers = signatures
            .Where(server => server.Value is JsonObject)
            .SelectMany(server => server.Value!.AsObject().Select(keyId => (Server: server.Key, KeyId: keyId.Key)))
            .ToList();
        foreach (var key in PublicKeysOf(thirdPartyInviteContent))
        {
            if (signers.Any(signer => JsonSigning.Verify(signedObject, signer.Server, signer.KeyId, key.Bytes))) yield return key;
        }
    }

    /// <summary>The Ed25519 public keys of an <c>m.room.third_party_invite</c> content; undecodable entries are skipped.</summary>
    public static IEnumerable<ThirdPartyInviteKey> PublicKeysOf(JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Object) yield break;
        if (KeyOf(content) is { } single) yield return single;
        if (!content.TryGetProperty("public_keys", out var list) || list.ValueKind != JsonValueKind.Array) yield break;
        foreach (var entry in list.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.Object && KeyOf(entry) is { } listed) yield return listed;
        }
    }

    private static ThirdPartyInviteKey? KeyOf(JsonElement holder) =>
        StringProperty(holder, "public_key") is { } text && TryDecodeKey(text, out var bytes)
            ? new ThirdPartyInviteKey(text, bytes, StringProperty(holder, "key_validity_url"))
            : null;

    /// <summary>Identity servers publish keys in unpadded base64; the URL-safe alphabet is accepted too, as other servers do.</summary>
    private static bool TryDecodeKey(string text, out byte[] key) =>
        UnpaddedBase64.TryDecode(text.Replace('-', '+').Replace('_', '/'), out key) && key.Length == 32;

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>A public key of an <c>m.room.third_party_invite</c>: as written (base64), decoded, and where to ask whether it is still valid.</summary>
public sealed record ThirdPartyInviteKey(string Text, byte[] Bytes, string? KeyValidityUrl);
