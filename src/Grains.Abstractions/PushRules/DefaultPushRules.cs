using System.Text.Json.Nodes;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// The server-default push rules of the Client-Server spec ("Predefined Rules"), in the spec's order, with the
/// user's id and localpart where the spec says so. A new object on every call: callers may change it.
/// </summary>
public static class DefaultPushRules
{
    public static readonly IReadOnlyList<string> Kinds = ["override", "content", "room", "sender", "underride"];

    /// <summary>The <c>global</c> ruleset of <paramref name="userId"/> (a valid user id).</summary>
    public static JsonObject For(string userId)
    {
        var localpart = userId[1..userId.IndexOf(':')];
        return new JsonObject
        {
            ["override"] = new JsonArray(
                Rule(".m.rule.master", [], [], enabled: false),
                Rule(".m.rule.suppress_notices", [EventMatch("content.msgtype", "m.notice")], []),
                Rule(".m.rule.invite_for_me",
                    [EventMatch("type", "m.room.member"), EventMatch("content.membership", "invite"), EventMatch("state_key", userId)],
                    [Notify(), Sound("default")]),
                Rule(".m.rule.member_event", [EventMatch("type", "m.room.member")], []),
                Rule(".m.rule.is_user_mention",
                    [PropertyContains("content.m\\.mentions.user_ids", userId)],
                    [Notify(), Sound("default"), Highlight()]),
                Rule(".m.rule.contains_display_name",
                    [new JsonObject { ["kind"] = "contains_display_name" }],
                    [Notify(), Sound("default"), Highlight()]),
                Rule(".m.rule.is_room_mention",
                    [PropertyIs("content.m\\.mentions.room", true), SenderPermission("room")],
                    [Notify(), Highlight()]),
                Rule(".m.rule.roomnotif",
                    [EventMatch("content.body", "@room"), SenderPermission("room")],
                    [Notify(), Highlight()]),
                Rule(".m.rule.tombstone",
                    [EventMatch("type", "m.room.tombstone"), EventMatch("state_key", "")],
                    [Notify(), Highlight()]),
                Rule(".m.rule.reaction", [EventMatch("type", "m.reaction")], []),
                Rule(".m.rule.room.server_acl",
                    [EventMatch("type", "m.room.server_acl"), EventMatch("state_key", "")],
                    []),
                Rule(".m.rule.suppress_edits", [PropertyIs("content.m\\.relates_to.rel_type", "m.replace")], [])),
            ["content"] = new JsonArray(
                ContentRule(".m.rule.contains_user_name", localpart, [Notify(), Sound("default"), Highlight()])),
            ["room"] = new JsonArray(),
            ["sender"] = new JsonArray(),
            ["underride"] = new JsonArray(
                Rule(".m.rule.call", [EventMatch("type", "m.call.invite")], [Notify(), Sound("ring")]),
                Rule(".m.rule.encrypted_room_one_to_one",
                    [MemberCount("2"), EventMatch("type", "m.room.encrypted")],
                    [Notify(), Sound("default")]),
                Rule(".m.rule.room_one_to_one",
                    [MemberCount("2"), EventMatch("type", "m.room.message")],
                    [Notify(), Sound("default")]),
                Rule(".m.rule.message", [EventMatch("type", "m.room.message")], [Notify()]),
                Rule(".m.rule.encrypted", [EventMatch("type", "m.room.encrypted")], [Notify()])),
        };
    }

    private static JsonObject Rule(string ruleId, JsonNode[] conditions, JsonNode[] actions, bool enabled = true) => new()
    {
        ["rule_id"] = ruleId,
        ["default"] = true,
        ["enabled"] = enabled,
        ["conditions"] = new JsonArray(conditions),
        ["actions"] = new JsonArray(actions),
    };

    private static JsonObject ContentRule(string ruleId, string pattern, JsonNode[] actions) => new()
    {
        ["rule_id"] = ruleId,
        ["default"] = true,
        ["enabled"] = true,
        ["pattern"] = pattern,
        ["actions"] = new JsonArray(actions),
    };

    private static JsonObject EventMatch(string key, string pattern) =>
        new() { ["kind"] = "event_match", ["key"] = key, ["pattern"] = pattern };

    private static JsonObject PropertyIs(string key, JsonNode value) =>
        new() { ["kind"] = "event_property_is", ["key"] = key, ["value"] = value };

    private static JsonObject PropertyContains(string key, JsonNode value) =>
        new() { ["kind"] = "event_property_contains", ["key"] = key, ["value"] = value };

    private static JsonObject SenderPermission(string key) =>
        new() { ["kind"] = "sender_notification_permission", ["key"] = key };

    private static JsonObject MemberCount(string @is) => new() { ["kind"] = "room_member_count", ["is"] = @is };

    private static JsonNode Notify() => JsonValue.Create("notify");

    private static JsonObject Sound(string sound) => new() { ["set_tweak"] = "sound", ["value"] = sound };

    private static JsonObject Highlight() => new() { ["set_tweak"] = "highlight" };
}
