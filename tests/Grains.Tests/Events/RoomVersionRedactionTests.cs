using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events;

/// <summary>
/// The redaction algorithm of every room version, from the spec's room version pages: v1 is the base, v6 stops
/// protecting m.room.aliases, v8 keeps the join rules' allow, v9 a member's join_authorised_via_users_server, and
/// v11 keeps more content (create, power levels' invite, third_party_invite.signed, redacts) and fewer top-level keys.
/// </summary>
public class RoomVersionRedactionTests
{
    private static RoomVersion Version(string id) => RoomVersion.TryGet(id, out var version) ? version : throw new ArgumentException(id);

    private static JsonObject Redact(string version, string type, string content, string? stateKey = "") =>
        EventRedactor.Redact(Version(version), JsonNode.Parse($$"""
            {
                "type": "{{type}}",
                {{(stateKey is null ? "" : $"\"state_key\": \"{stateKey}\",")}}
                "content": {{content}},
                "room_id": "!r:example.org", "sender": "@u:example.org", "event_id": "$e:example.org",
                "origin": "example.org", "origin_server_ts": 1000, "depth": 4, "prev_events": [], "auth_events": [],
                "prev_state": [], "membership": "join", "hashes": { "sha256": "abc" }, "signatures": {},
                "unsigned": { "age_ts": 5 }, "redacts": "$t:example.org", "custom": 1
            }
            """)!.AsObject());

    private static void AssertContent(string expected, JsonObject redacted) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), redacted["content"]),
            $"expected {expected}, got {redacted["content"]?.ToJsonString()}");

    public static TheoryData<string> AllVersions => new(RoomVersion.Supported.Select(v => v.Id));

    private static bool From(string version, int first) => int.Parse(version) >= first;

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Top_level_keys(string version)
    {
        var redacted = Redact(version, "m.room.message", """{ "body": "x" }""", stateKey: null);
        string[] common = ["auth_events", "content", "depth", "event_id", "hashes", "origin_server_ts", "prev_events", "room_id", "sender", "signatures", "type"];
        string[] expected = From(version, 11) ? common : [.. common, "membership", "origin", "prev_state"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), redacted.Select(p => p.Key).Order(StringComparer.Ordinal));
        AssertContent("{}", redacted);
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Aliases_keep_their_aliases_only_in_v1_to_v5(string version) =>
        AssertContent(From(version, 6) ? "{}" : """{ "aliases": ["#a:example.org"] }""",
            Redact(version, "m.room.aliases", """{ "aliases": ["#a:example.org"], "other": 1 }""", "example.org"));

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Join_rules_keep_allow_from_v8(string version) =>
        AssertContent(From(version, 8)
                ? """{ "join_rule": "restricted", "allow": [{ "type": "m.room_membership", "room_id": "!a:example.org" }] }"""
                : """{ "join_rule": "restricted" }""",
            Redact(version, "m.room.join_rules",
                """{ "join_rule": "restricted", "allow": [{ "type": "m.room_membership", "room_id": "!a:example.org" }], "x": 1 }"""));

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Members_keep_the_join_authoriser_from_v9_and_the_signed_third_party_invite_from_v11(string version)
    {
        var redacted = Redact(version, "m.room.member", """
            { "membership": "join", "displayname": "U", "join_authorised_via_users_server": "@a:example.org",
              "third_party_invite": { "display_name": "x", "signed": { "token": "t" } } }
            """, "@u:example.org");
        var expected = new JsonObject { ["membership"] = "join" };
        if (From(version, 9)) expected["join_authorised_via_users_server"] = "@a:example.org";
        if (From(version, 11)) expected["third_party_invite"] = new JsonObject { ["signed"] = new JsonObject { ["token"] = "t" } };
        AssertContent(expected.ToJsonString(), redacted);
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Create_keeps_its_creator_before_v11_and_everything_from_v11(string version) =>
        AssertContent(From(version, 11)
                ? """{ "creator": "@u:example.org", "room_version": "11", "m.federate": false }"""
                : """{ "creator": "@u:example.org" }""",
            Redact(version, "m.room.create", """{ "creator": "@u:example.org", "room_version": "11", "m.federate": false }"""));

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Power_levels_keep_invite_from_v11(string version)
    {
        var redacted = Redact(version, "m.room.power_levels", """
            { "ban": 1, "events": {}, "events_default": 2, "kick": 3, "redact": 4, "state_default": 5, "users": {},
              "users_default": 6, "invite": 7, "notifications": { "room": 8 } }
            """);
        var expected = From(version, 11)
            ? """{ "ban": 1, "events": {}, "events_default": 2, "kick": 3, "redact": 4, "state_default": 5, "users": {}, "users_default": 6, "invite": 7 }"""
            : """{ "ban": 1, "events": {}, "events_default": 2, "kick": 3, "redact": 4, "state_default": 5, "users": {}, "users_default": 6 }""";
        AssertContent(expected, redacted);
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void History_visibility_keeps_its_setting_in_every_version(string version) =>
        AssertContent("""{ "history_visibility": "shared" }""",
            Redact(version, "m.room.history_visibility", """{ "history_visibility": "shared", "x": 1 }"""));

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Redactions_keep_content_redacts_from_v11(string version) =>
        AssertContent(From(version, 11) ? """{ "redacts": "$t:example.org" }""" : "{}",
            Redact(version, "m.room.redaction", """{ "redacts": "$t:example.org", "reason": "spam" }""", stateKey: null));
}
