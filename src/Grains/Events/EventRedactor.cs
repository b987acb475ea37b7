using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>
/// The redaction algorithm of each room version. v1 is the base; v6 stops protecting <c>m.room.aliases</c>; v8
/// keeps the join rules' <c>allow</c>; v9 keeps a member's <c>join_authorised_via_users_server</c>; v11 (see
/// <see cref="V11TopLevelKeys"/>) keeps more content and fewer top-level keys.
/// </summary>
public static class EventRedactor
{
    private static readonly HashSet<string> V1TopLevelKeys =
    [
        "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
        "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership",
    ];

    // v11 no longer protects origin, membership and prev_state.
    private static readonly HashSet<string> V11TopLevelKeys =
    [
        "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
        "prev_events", "auth_events", "origin_server_ts",
    ];

    /// <summary>Returns a redacted deep copy; the input is not modified.</summary>
    public static JsonObject Redact(RoomVersion version, JsonElement pdu) =>
        Redact(version, JsonObject.Create(pdu) ?? throw new ArgumentException("An event must be a JSON object.", nameof(pdu)));

    /// <summary>Returns a redacted deep copy; the input is not modified.</summary>
    public static JsonObject Redact(RoomVersion version, JsonObject pdu)
    {
        var keep = version.UsesV11RedactionRules ? V11TopLevelKeys : V1TopLevelKeys;
        var type = pdu["type"] is JsonValue typeValue && typeValue.TryGetValue<string>(out var t) ? t : null;
        var content = pdu["content"] as JsonObject;

        var redacted = new JsonObject();
        foreach (var (key, value) in pdu)
        {
            if (key == "content")
                redacted[key] = RedactContent(version, type, content!);
            else if (keep.Contains(key))
                redacted[key] = value?.DeepClone();
        }
        // A malformed event without an object content still gets the empty content a redaction leaves.
        if (content is null)
            redacted["content"] = new JsonObject();
        return redacted;
    }

    private static JsonObject RedactContent(RoomVersion version, string? type, JsonObject? content)
    {
        var result = new JsonObject();
        if (content is null)
            return result;
        var v11 = version.UsesV11RedactionRules;

        switch (type)
        {
            case EventTypes.Member:
                Copy(content, result, "membership");
                if (version.RedactionKeepsJoinAuthoriser)
                    Copy(content, result, "join_authorised_via_users_server");
                if (v11 && content["third_party_invite"] is JsonObject thirdPartyInvite)
                {
                    var kept = new JsonObject();
                    Copy(thirdPartyInvite, kept, "signed");
                    result["third_party_invite"] = kept;
                }
                break;
            case EventTypes.Create:
                if (v11)
                    return (JsonObject)content.DeepClone();
                Copy(content, result, "creator");
                break;
            case EventTypes.JoinRules:
                Copy(content, result, "join_rule");
                if (version.RestrictedJoinRule)
                    Copy(content, result, "allow");
                break;
            case EventTypes.PowerLevels:
                Copy(content, result, "ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default");
                if (v11)
                    Copy(content, result, "invite");
                break;
            case EventTypes.HistoryVisibility:
                Copy(content, result, "history_visibility");
                break;
            case EventTypes.Aliases when version.SpecialCasesAliases:
                Copy(content, result, "aliases");
                break;
            case EventTypes.Redaction when v11:
                Copy(content, result, "redacts");
                break;
        }
        return result;
    }

    private static void Copy(JsonObject from, JsonObject to, params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
        {
            if (from.TryGetPropertyValue(key, out var value))
                to[key] = value?.DeepClone();
        }
    }
}
