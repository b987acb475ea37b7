using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.PushRules;

namespace HomeServer.Grains.Tests.PushRules;

/// <summary>The condition kinds and the default rules of the spec, evaluated without a room grain.</summary>
public sealed class PushEvaluatorTests
{
    private const string Bob = "@bob:test";
    private const string Alice = "@alice:test";

    private static JsonElement Event(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static PushContext Context(string eventJson, string? displayName = "Bob", int members = 3, long senderLevel = 0, long roomLevel = 50) =>
        new(new EventProperties(Event(eventJson)), Bob, displayName, members, senderLevel, key => key == "room" ? roomLevel : 50);

    private static string Message(string body, string extra = "") =>
        $$$"""{"type":"m.room.message","sender":"{{{Alice}}}","room_id":"!r:test","content":{"msgtype":"m.text","body":"{{{body}}}"{{{extra}}}}}""";

    private static string? Match(string eventJson, JsonObject? rules = null, string? displayName = "Bob", int members = 3, long senderLevel = 0) =>
        CompiledRuleSet.Compile(rules ?? PushRuleSets.Merge(Bob, null)).MatchingRuleId(Context(eventJson, displayName, members, senderLevel));

    private static JsonObject WithOverride(string conditionsJson)
    {
        var rules = PushRuleSets.Merge(Bob, null);
        rules["override"]!.AsArray().Insert(1, new JsonObject
        {
            ["rule_id"] = "test",
            ["enabled"] = true,
            ["conditions"] = JsonNode.Parse(conditionsJson),
            ["actions"] = new JsonArray("notify"),
        });
        return rules;
    }

    [Fact]
    public void The_default_rules_pick_the_spec_rule_for_each_kind_of_event()
    {
        Assert.Equal(".m.rule.message", Match(Message("hi")));
        Assert.Equal(".m.rule.room_one_to_one", Match(Message("hi"), members: 2));
        Assert.Equal(".m.rule.suppress_notices", Match("""{"type":"m.room.message","sender":"@alice:test","content":{"msgtype":"m.notice","body":"x"}}"""));
        Assert.Equal(".m.rule.is_user_mention", Match(Message("hi", """, "m.mentions":{"user_ids":["@bob:test"]}""")));
        Assert.Equal(".m.rule.message", Match(Message("hi", """, "m.mentions":{"user_ids":["@carol:test"]}""")));
        Assert.Equal(".m.rule.contains_display_name", Match(Message("hey bob, look")));
        Assert.Equal(".m.rule.message", Match(Message("bobcat")));
        Assert.Equal(".m.rule.message", Match(Message("hey Bobby"), displayName: null));
        Assert.Equal(".m.rule.contains_user_name", Match(Message("hey BOB!"), displayName: "Robert"));
        Assert.Equal(".m.rule.is_room_mention", Match(Message("x", """, "m.mentions":{"room":true}"""), senderLevel: 50));
        Assert.Equal(".m.rule.message", Match(Message("x", """, "m.mentions":{"room":true}"""), senderLevel: 49));
        Assert.Equal(".m.rule.roomnotif", Match(Message("@room hello"), senderLevel: 100));
        Assert.Equal(".m.rule.suppress_edits", Match(Message("* fixed", """, "m.relates_to":{"rel_type":"m.replace","event_id":"$e"}""")));
        Assert.Equal(".m.rule.invite_for_me",
            Match("""{"type":"m.room.member","state_key":"@bob:test","sender":"@alice:test","content":{"membership":"invite"}}"""));
        Assert.Equal(".m.rule.member_event",
            Match("""{"type":"m.room.member","state_key":"@carol:test","sender":"@carol:test","content":{"membership":"join"}}"""));
        Assert.Equal(".m.rule.tombstone", Match("""{"type":"m.room.tombstone","state_key":"","sender":"@alice:test","content":{}}"""));
        Assert.Equal(".m.rule.reaction", Match("""{"type":"m.reaction","sender":"@alice:test","content":{}}"""));
        Assert.Equal(".m.rule.encrypted_room_one_to_one", Match("""{"type":"m.room.encrypted","sender":"@alice:test","content":{}}""", members: 2));
        Assert.Equal(".m.rule.encrypted", Match("""{"type":"m.room.encrypted","sender":"@alice:test","content":{}}"""));
        Assert.Equal(".m.rule.call", Match("""{"type":"m.call.invite","sender":"@alice:test","content":{}}"""));
        Assert.Null(Match("""{"type":"m.room.topic","state_key":"","sender":"@alice:test","content":{"topic":"t"}}"""));
    }

    [Fact]
    public void Conditions_follow_the_spec()
    {
        // event_match: whole value for other keys, case-insensitive glob; content.body at word boundaries.
        Assert.Equal("test", Match(Message("x"), WithOverride("""[{"kind":"event_match","key":"type","pattern":"M.ROOM.*"}]""")));
        Assert.Equal(".m.rule.message", Match(Message("x"), WithOverride("""[{"kind":"event_match","key":"type","pattern":"m.room"}]""")));
        Assert.Equal("test", Match(Message("I like lemon cake!"), WithOverride("""[{"kind":"event_match","key":"content.body","pattern":"c?ke"}]""")));
        Assert.Equal(".m.rule.message", Match(Message("pancake"), WithOverride("""[{"kind":"event_match","key":"content.body","pattern":"cake"}]""")));
        // Keys with dots are escaped; values that are not strings never match event_match.
        var dotted = """{"type":"t","sender":"@alice:test","content":{"a.b":{"c\\d":"v","n":1}}}""";
        Assert.Equal("test", Match(dotted, WithOverride("""[{"kind":"event_match","key":"content.a\\.b.c\\\\d","pattern":"v"}]""")));
        Assert.Null(Match(dotted, WithOverride("""[{"kind":"event_match","key":"content.a.b.c\\\\d","pattern":"v"}]""")));
        Assert.Null(Match(dotted, WithOverride("""[{"kind":"event_match","key":"content.a\\.b.n","pattern":"1"}]""")));
        // event_property_is and event_property_contains compare exact JSON values of the same type.
        Assert.Equal("test", Match(dotted, WithOverride("""[{"kind":"event_property_is","key":"content.a\\.b.n","value":1}]""")));
        Assert.Null(Match(dotted, WithOverride("""[{"kind":"event_property_is","key":"content.a\\.b.n","value":"1"}]""")));
        var flags = """{"type":"t","sender":"@alice:test","content":{"tags":["x",2,true,null]}}""";
        Assert.Equal("test", Match(flags, WithOverride("""[{"kind":"event_property_contains","key":"content.tags","value":null}]""")));
        Assert.Equal("test", Match(flags, WithOverride("""[{"kind":"event_property_contains","key":"content.tags","value":2}]""")));
        Assert.Null(Match(flags, WithOverride("""[{"kind":"event_property_contains","key":"content.tags","value":"X"}]""")));
        // room_member_count with each operator; an unknown kind makes the rule never match.
        Assert.Equal("test", Match(Message("x"), WithOverride("""[{"kind":"room_member_count","is":">=3"}]""")));
        Assert.Equal("test", Match(Message("x"), WithOverride("""[{"kind":"room_member_count","is":"<4"}]""")));
        Assert.Equal("test", Match(Message("x"), WithOverride("""[{"kind":"room_member_count","is":"3"}]""")));
        Assert.Equal(".m.rule.message", Match(Message("x"), WithOverride("""[{"kind":"room_member_count","is":">3"}]""")));
        Assert.Equal(".m.rule.message", Match(Message("x"), WithOverride("""[{"kind":"org.example.future"}]""")));
    }

    [Fact]
    public void User_edits_merge_with_the_defaults_in_spec_order()
    {
        var stored = new JsonObject
        {
            ["override"] = new JsonArray(
                new JsonObject { ["rule_id"] = ".m.rule.master", ["enabled"] = true, ["actions"] = new JsonArray() },
                new JsonObject { ["rule_id"] = "mine", ["enabled"] = true, ["conditions"] = new JsonArray(), ["actions"] = new JsonArray("notify") }),
            ["underride"] = new JsonArray(new JsonObject { ["rule_id"] = ".m.rule.message", ["actions"] = new JsonArray("dont_notify") }),
        };
        var merged = PushRuleSets.Merge(Bob, PushRuleSets.ToAccountData(stored));
        var overrides = merged["override"]!.AsArray().Select(r => (string)r!["rule_id"]!).ToList();
        Assert.Equal([".m.rule.master", "mine", ".m.rule.suppress_notices"], overrides.Take(3));
        Assert.True((bool)merged["override"]![0]!["enabled"]!);
        Assert.Equal("[\"dont_notify\"]", merged["underride"]!.AsArray().Single(r => (string)r!["rule_id"]! == ".m.rule.message")!["actions"]!.ToJsonString());
        // The master rule enabled silences everything.
        Assert.Equal(".m.rule.master", Match(Message("hi", """, "m.mentions":{"user_ids":["@bob:test"]}"""), merged));
    }

    [Fact]
    public void One_event_is_evaluated_for_every_recipient_with_their_own_rules()
    {
        var recipients = Enumerable.Range(0, 10).Select(i => $"@user{i}:test").ToList();
        var rules = recipients.ToDictionary(u => u, u => CompiledRuleSet.Compile(PushRuleSets.Merge(u, null)));
        var facts = new PushRoomFacts(recipients, 11, userId => userId == "@user3:test" ? "Three" : null, 0, _ => 50);
        var message = Event(Message("hello three", """, "m.mentions":{"user_ids":["@user1:test"]}, "m.relates_to":{"rel_type":"m.thread","event_id":"$root"}"""));

        var notifications = PushEvaluator.Evaluate(message, facts, userId => rules[userId]);

        Assert.Equal(recipients, notifications.Select(n => n.UserId));
        Assert.Equal(["@user1:test", "@user3:test"], notifications.Where(n => n.Highlight).Select(n => n.UserId));
        Assert.All(notifications, n => Assert.Equal("$root", n.ThreadId));
    }
}
