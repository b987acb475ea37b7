using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

/// <summary>Rule 9: m.room.power_levels. Bob (50) may send power levels; Alice is 100.</summary>
public class PowerLevelsAuthTests
{
    private const string ModeratedLevels = """
        {
            "ban": 50, "kick": 50, "redact": 100, "invite": 0,
            "events_default": 0, "state_default": 50, "users_default": 0,
            "events": { "m.room.power_levels": 50, "m.room.tombstone": 100, "m.room.name": 50 },
            "notifications": { "room": 50, "high": 100 },
            "users": {
                "@alice:example.org": 100, "@bob:example.org": 50, "@carol:example.org": 50,
                "@dave:example.org": 10, "@admin:example.org": 100
            }
        }
        """;

    private static TestRoom Room(string version)
    {
        var room = Create(version, powerLevels: ModeratedLevels);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        return room;
    }

    private static string Modified(Action<JsonObject> change)
    {
        var content = JsonNode.Parse(ModeratedLevels)!.AsObject();
        change(content);
        return content.ToJsonString();
    }

    private static AuthResult Change(TestRoom room, UserId sender, Action<JsonObject> change) =>
        room.Check(sender, EventTypes.PowerLevels, "", Modified(change));

    // A PDU straight from JSON, for values the builder would refuse (non-integers).
    private static Pdu RawPowerLevels(TestRoom room, UserId sender, string content)
    {
        var json = $$"""
            { "type": "m.room.power_levels", "state_key": "", "room_id": "{{room.RoomId}}", "sender": "{{sender}}",
              "content": {{content}}, "depth": 10, "origin_server_ts": 1, "prev_events": [], "auth_events": [] }
            """;
        var bytes = Encoding.UTF8.GetBytes(json);
        return Pdu.Parse(EventId.FromReferenceHash(SHA256.HashData(bytes)), bytes);
    }

    // 9.1 - 9.3

    [Theory]
    [InlineData("10", "users_default")]
    [InlineData("11", "events_default")]
    [InlineData("10", "state_default")]
    [InlineData("11", "ban")]
    [InlineData("10", "redact")]
    [InlineData("11", "kick")]
    [InlineData("10", "invite")]
    public void Named_levels_must_be_integers_not_strings(string version, string key)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Alice, c => c[key] = "50"), $"'{key}' must be an integer");
        AuthAssert.Rejected(Change(room, Alice, c => c[key] = null), $"'{key}' must be an integer");
        AuthAssert.Rejected(room.Check(RawPowerLevels(room, Alice, $$"""{ "{{key}}": 1.5 }""")), $"'{key}' must be an integer");
    }

    [Theory]
    [InlineData("10", "events")]
    [InlineData("11", "notifications")]
    public void Level_maps_must_be_objects_of_integers(string version, string map)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Alice, c => c[map] = new JsonObject { ["x"] = "50" }), $"'{map}' must be an object");
        AuthAssert.Rejected(Change(room, Alice, c => c[map] = new JsonObject { ["x"] = true }), $"'{map}' must be an object");
        AuthAssert.Rejected(Change(room, Alice, c => c[map] = new JsonArray()), $"'{map}' must be an object");
        AuthAssert.Rejected(Change(room, Alice, c => c[map] = 50), $"'{map}' must be an object");
        AuthAssert.Rejected(room.Check(RawPowerLevels(room, Alice, $$"""{ "{{map}}": { "x": 0.5 } }""")), $"'{map}' must be an object");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_must_map_user_ids_to_integers(string version)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Alice, c => c["users"]!["carol"] = 10), "'users' must be");
        AuthAssert.Rejected(Change(room, Alice, c => c["users"]!["@carol:example.org"] = "10"), "'users' must be");
        AuthAssert.Rejected(Change(room, Alice, c => c["users"] = new JsonArray()), "'users' must be");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Integral_values_in_any_notation_count_as_integers(string version)
    {
        var room = Create(version);
        AuthAssert.Allowed(room.Check(RawPowerLevels(room, Alice,
            """{ "ban": 5e1, "users": { "@alice:example.org": 100.0, "@bob:example.org": 0.5e2 } }""")));
    }

    // 9.4

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void The_first_power_levels_event_is_not_compared_with_anything(string version)
    {
        var room = Create(version, powerLevels: null);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Allowed(room.Check(Carol, EventTypes.PowerLevels, "", """{ "users": { "@carol:example.org": 100 }, "ban": 0 }"""));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Sending_power_levels_at_all_needs_its_required_level(string version)
    {
        var room = Room(version);
        AuthAssert.Rejected(room.Check(Dave, EventTypes.PowerLevels, "", ModeratedLevels), "not joined");
        room.SetMembership(Dave, Membership.Join);
        AuthAssert.Rejected(room.Check(Dave, EventTypes.PowerLevels, "", ModeratedLevels), "needs power level 50");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Resending_unchanged_levels_is_allowed_even_when_some_exceed_the_sender(string version)
    {
        var room = Room(version);
        AuthAssert.Allowed(room.Check(Bob, EventTypes.PowerLevels, "", ModeratedLevels));
    }

    // 9.5

    [Theory]
    [InlineData("10", "ban", 40L)]
    [InlineData("11", "ban", 50L)]
    [InlineData("10", "kick", 0L)]
    [InlineData("11", "users_default", 10L)]
    [InlineData("10", "invite", 50L)]
    [InlineData("11", "state_default", 20L)]
    public void Named_levels_may_change_within_the_senders_level(string version, string key, long value)
    {
        var room = Room(version);
        AuthAssert.Allowed(Change(room, Bob, c => c[key] = value));
    }

    [Theory]
    [InlineData("10", "ban", 51L)]
    [InlineData("11", "users_default", 60L)]
    [InlineData("10", "events_default", 100L)]
    public void Named_levels_may_not_be_raised_above_the_sender(string version, string key, long value)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Bob, c => c[key] = value), $"Changing '{key}'");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Named_levels_above_the_sender_may_not_be_changed_or_removed(string version)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Bob, c => c["redact"] = 50), "Changing 'redact' from 100 to 50");
        AuthAssert.Rejected(Change(room, Bob, c => c.Remove("redact")), "Changing 'redact' from 100 to unset");
        AuthAssert.Allowed(Change(room, Alice, c => c.Remove("redact")));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Named_levels_may_be_added_or_removed_within_the_senders_level(string version)
    {
        var room = Room(version);
        AuthAssert.Allowed(Change(room, Bob, c => c.Remove("kick")));
        var withoutInvite = Create(version, powerLevels: Modified(c => c.Remove("invite")));
        withoutInvite.SetMembership(Bob, Membership.Join);
        AuthAssert.Allowed(withoutInvite.Check(Bob, EventTypes.PowerLevels, "", Modified(c => c["invite"] = 50)));
        AuthAssert.Rejected(withoutInvite.Check(Bob, EventTypes.PowerLevels, "", Modified(c => c["invite"] = 70)), "from unset to 70");
    }

    // 9.6, 9.7

    [Theory]
    [InlineData("10", "events")]
    [InlineData("11", "notifications")]
    public void Map_entries_within_the_senders_level_may_change(string version, string map)
    {
        var room = Room(version);
        var existing = map == "events" ? "m.room.name" : "room";
        AuthAssert.Allowed(Change(room, Bob, c => c[map]![existing] = 0));
        AuthAssert.Allowed(Change(room, Bob, c => c[map]!.AsObject().Remove(existing)));
        AuthAssert.Allowed(Change(room, Bob, c => c[map]!["m.new"] = 50));
    }

    [Theory]
    [InlineData("10", "events")]
    [InlineData("11", "notifications")]
    public void Map_entries_may_not_be_raised_above_the_sender(string version, string map)
    {
        var room = Room(version);
        var existing = map == "events" ? "m.room.name" : "room";
        AuthAssert.Rejected(Change(room, Bob, c => c[map]![existing] = 51), "above the sender's power level");
        AuthAssert.Rejected(Change(room, Bob, c => c[map]!["m.new"] = 75), "above the sender's power level");
    }

    [Theory]
    [InlineData("10", "events", "m.room.tombstone")]
    [InlineData("11", "notifications", "high")]
    public void Map_entries_above_the_sender_may_not_be_changed_or_removed(string version, string map, string high)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Bob, c => c[map]![high] = 50), "needs power level 100");
        AuthAssert.Rejected(Change(room, Bob, c => c[map]!.AsObject().Remove(high)), "needs power level 100");
        AuthAssert.Allowed(Change(room, Alice, c => c[map]![high] = 50));
    }

    // 9.8, 9.9

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_below_the_sender_may_be_demoted_removed_or_promoted_up_to_the_sender(string version)
    {
        var room = Room(version);
        AuthAssert.Allowed(Change(room, Bob, c => c["users"]!["@dave:example.org"] = 0));
        AuthAssert.Allowed(Change(room, Bob, c => c["users"]!.AsObject().Remove("@dave:example.org")));
        AuthAssert.Allowed(Change(room, Bob, c => c["users"]!["@dave:example.org"] = 50));
        AuthAssert.Allowed(Change(room, Bob, c => c["users"]!["@eve:elsewhere.org"] = 50));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_may_not_be_promoted_above_the_sender(string version)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Bob, c => c["users"]!["@dave:example.org"] = 51), "above the sender's power level");
        AuthAssert.Rejected(Change(room, Bob, c => c["users"]!["@eve:elsewhere.org"] = 100), "above the sender's power level");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_at_or_above_the_sender_may_not_be_changed_or_removed(string version)
    {
        var room = Room(version);
        AuthAssert.Rejected(Change(room, Bob, c => c["users"]!["@carol:example.org"] = 0), "@carol:example.org (50)");
        AuthAssert.Rejected(Change(room, Bob, c => c["users"]!.AsObject().Remove("@carol:example.org")), "@carol:example.org (50)");
        AuthAssert.Rejected(Change(room, Bob, c => c["users"]!["@alice:example.org"] = 50), "@alice:example.org (100)");
        AuthAssert.Rejected(Change(room, Alice, c => c["users"]!["@admin:example.org"] = 50), "@admin:example.org (100)");
        AuthAssert.Allowed(Change(room, Alice, c => c["users"]!["@bob:example.org"] = 0));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Senders_may_lower_but_not_raise_their_own_level(string version)
    {
        var room = Room(version);
        AuthAssert.Allowed(Change(room, Bob, c => c["users"]!["@bob:example.org"] = 0));
        AuthAssert.Allowed(Change(room, Bob, c => c["users"]!.AsObject().Remove("@bob:example.org")));
        AuthAssert.Rejected(Change(room, Bob, c => c["users"]!["@bob:example.org"] = 60), "above the sender's power level");
        AuthAssert.Allowed(Change(room, Alice, c => c["users"]!["@alice:example.org"] = 0));
    }
}
