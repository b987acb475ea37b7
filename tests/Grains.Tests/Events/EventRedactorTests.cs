using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events;

public class EventRedactorTests
{
    private static RoomVersion Version(string id) => id == "10" ? RoomVersion.V10 : RoomVersion.V11;

    private static JsonObject Event(string type, string content, string? stateKey = "") => JsonNode.Parse($$"""
        {
            "type": "{{type}}",
            {{(stateKey is null ? "" : $"\"state_key\": \"{stateKey}\",")}}
            "content": {{content}},
            "room_id": "!r:example.org",
            "sender": "@u:example.org",
            "event_id": "$legacy",
            "origin": "example.org",
            "origin_server_ts": 1000,
            "depth": 4,
            "prev_events": ["$p"],
            "auth_events": ["$a"],
            "prev_state": [],
            "membership": "join",
            "hashes": { "sha256": "abc" },
            "signatures": { "example.org": { "ed25519:1": "sig" } },
            "unsigned": { "age_ts": 5 },
            "age_ts": 5,
            "redacts": "$target",
            "custom": { "x": 1 }
        }
        """)!.AsObject();

    private static void AssertJsonEqual(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString()}");

    [Fact]
    public void V10_keeps_the_v9_top_level_keys()
    {
        var redacted = EventRedactor.Redact(RoomVersion.V10, Event("m.room.message", "{}", stateKey: null));
        Assert.Equal(
            ["auth_events", "content", "depth", "event_id", "hashes", "membership", "origin", "origin_server_ts",
             "prev_events", "prev_state", "room_id", "sender", "signatures", "type"],
            redacted.Select(p => p.Key).Order(StringComparer.Ordinal));
        AssertJsonEqual("""{ "example.org": { "ed25519:1": "sig" } }""", redacted["signatures"]);
    }

    [Fact]
    public void V11_no_longer_keeps_origin_membership_and_prev_state()
    {
        var redacted = EventRedactor.Redact(RoomVersion.V11, Event("m.room.member", """{ "membership": "join" }""", "@u:example.org"));
        Assert.Equal(
            ["auth_events", "content", "depth", "event_id", "hashes", "origin_server_ts", "prev_events", "room_id",
             "sender", "signatures", "state_key", "type"],
            redacted.Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Theory]
    // m.room.member
    [InlineData("10", "m.room.member",
        """{ "membership": "join", "displayname": "U", "avatar_url": "mxc://a/b", "join_authorised_via_users_server": "@x:y", "third_party_invite": { "signed": { "token": "t" }, "display_name": "d" } }""",
        """{ "membership": "join", "join_authorised_via_users_server": "@x:y" }""")]
    [InlineData("11", "m.room.member",
        """{ "membership": "invite", "displayname": "U", "join_authorised_via_users_server": "@x:y", "third_party_invite": { "signed": { "token": "t" }, "display_name": "d" } }""",
        """{ "membership": "invite", "join_authorised_via_users_server": "@x:y", "third_party_invite": { "signed": { "token": "t" } } }""")]
    [InlineData("11", "m.room.member",
        """{ "membership": "leave", "reason": "bye" }""",
        """{ "membership": "leave" }""")]
    // m.room.create
    [InlineData("10", "m.room.create",
        """{ "creator": "@u:example.org", "room_version": "10", "m.federate": false, "predecessor": { "room_id": "!o:x" } }""",
        """{ "creator": "@u:example.org" }""")]
    [InlineData("11", "m.room.create",
        """{ "room_version": "11", "m.federate": false, "type": "m.space", "predecessor": { "room_id": "!o:x" } }""",
        """{ "room_version": "11", "m.federate": false, "type": "m.space", "predecessor": { "room_id": "!o:x" } }""")]
    // m.room.join_rules
    [InlineData("10", "m.room.join_rules",
        """{ "join_rule": "restricted", "allow": [{ "type": "m.room_membership", "room_id": "!s:x" }], "extra": 1 }""",
        """{ "join_rule": "restricted", "allow": [{ "type": "m.room_membership", "room_id": "!s:x" }] }""")]
    [InlineData("11", "m.room.join_rules",
        """{ "join_rule": "public", "extra": 1 }""",
        """{ "join_rule": "public" }""")]
    // m.room.power_levels
    [InlineData("10", "m.room.power_levels",
        """{ "ban": 50, "events": { "m.room.name": 100 }, "events_default": 0, "invite": 50, "kick": 50, "notifications": { "room": 20 }, "redact": 50, "state_default": 50, "users": { "@u:example.org": 100 }, "users_default": 0, "historical": 100 }""",
        """{ "ban": 50, "events": { "m.room.name": 100 }, "events_default": 0, "kick": 50, "redact": 50, "state_default": 50, "users": { "@u:example.org": 100 }, "users_default": 0 }""")]
    [InlineData("11", "m.room.power_levels",
        """{ "ban": 50, "events": { "m.room.name": 100 }, "events_default": 0, "invite": 50, "kick": 50, "notifications": { "room": 20 }, "redact": 50, "state_default": 50, "users": { "@u:example.org": 100 }, "users_default": 0, "historical": 100 }""",
        """{ "ban": 50, "events": { "m.room.name": 100 }, "events_default": 0, "invite": 50, "kick": 50, "redact": 50, "state_default": 50, "users": { "@u:example.org": 100 }, "users_default": 0 }""")]
    // m.room.history_visibility
    [InlineData("10", "m.room.history_visibility", """{ "history_visibility": "shared", "x": 1 }""", """{ "history_visibility": "shared" }""")]
    [InlineData("11", "m.room.history_visibility", """{ "history_visibility": "joined", "x": 1 }""", """{ "history_visibility": "joined" }""")]
    // m.room.redaction
    [InlineData("10", "m.room.redaction", """{ "redacts": "$t", "reason": "spam" }""", "{}")]
    [InlineData("11", "m.room.redaction", """{ "redacts": "$t", "reason": "spam" }""", """{ "redacts": "$t" }""")]
    // everything else loses all content
    [InlineData("10", "m.room.message", """{ "body": "hi", "msgtype": "m.text" }""", "{}")]
    [InlineData("11", "m.room.message", """{ "body": "hi", "msgtype": "m.text" }""", "{}")]
    [InlineData("10", "m.room.aliases", """{ "aliases": ["#a:x"] }""", "{}")]
    [InlineData("11", "m.room.name", """{ "name": "Room" }""", "{}")]
    [InlineData("10", "m.room.third_party_invite", """{ "display_name": "d", "public_key": "k" }""", "{}")]
    [InlineData("11", "m.room.encryption", """{ "algorithm": "m.megolm.v1.aes-sha2" }""", "{}")]
    public void Strips_content_per_event_type(string version, string type, string content, string expected)
    {
        var stateKey = type is "m.room.message" or "m.room.redaction" ? null : "";
        var redacted = EventRedactor.Redact(Version(version), Event(type, content, stateKey));
        AssertJsonEqual(expected, redacted["content"]);
        Assert.Equal(type, (string?)redacted["type"]);
    }

    [Fact]
    public void V11_keeps_an_empty_third_party_invite_when_it_has_no_signed_key()
    {
        var redacted = EventRedactor.Redact(RoomVersion.V11,
            Event("m.room.member", """{ "membership": "invite", "third_party_invite": { "display_name": "d" } }""", "@v:x"));
        AssertJsonEqual("""{ "membership": "invite", "third_party_invite": {} }""", redacted["content"]);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Drops_top_level_redacts_in_both_versions(string version)
    {
        var redacted = EventRedactor.Redact(Version(version), Event("m.room.redaction", """{ "redacts": "$t" }""", stateKey: null));
        Assert.False(redacted.ContainsKey("redacts"));
    }

    [Fact]
    public void Leaves_the_input_untouched()
    {
        var input = Event("m.room.member", """{ "membership": "join", "displayname": "U" }""", "@u:example.org");
        var before = input.ToJsonString();
        var redacted = EventRedactor.Redact(RoomVersion.V11, input);
        ((JsonObject)redacted["content"]!)["membership"] = "leave";
        Assert.Equal(before, input.ToJsonString());
    }

    [Fact]
    public void Gives_an_empty_content_when_the_event_has_none()
    {
        var input = Event("m.room.message", "{}", stateKey: null);
        input.Remove("content");
        AssertJsonEqual("{}", EventRedactor.Redact(RoomVersion.V10, input)["content"]);
    }

    [Fact]
    public void Accepts_json_elements()
    {
        var element = JsonElement.Parse("""{ "type": "m.room.join_rules", "state_key": "", "content": { "join_rule": "invite", "x": 1 }, "unsigned": {} }""");
        AssertJsonEqual("""{ "type": "m.room.join_rules", "state_key": "", "content": { "join_rule": "invite" } }""",
            EventRedactor.Redact(RoomVersion.V10, element));
    }

    [Fact]
    public void Is_idempotent()
    {
        foreach (var version in RoomVersion.Supported)
        {
            var once = EventRedactor.Redact(version, Event("m.room.power_levels", """{ "ban": 50, "invite": 0, "x": 1 }"""));
            Assert.True(JsonNode.DeepEquals(once, EventRedactor.Redact(version, once)));
        }
    }
}
