using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

/// <summary>Rules 2.4, 3 and 5-8, 10: everything but create, membership and power level changes.</summary>
public class GeneralAuthTests
{
    private const string Text = """{ "msgtype": "m.text", "body": "hi" }""";

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Rejects_events_in_a_room_without_create_event(string version)
    {
        var room = new TestRoom(VersionOf(version));
        AuthAssert.Rejected(room.Check(Alice, "m.room.message", null, Text), "no m.room.create");
        AuthAssert.Rejected(room.CheckMembership(Alice, Alice, Membership.Join), "no m.room.create");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Rejects_senders_from_other_servers_when_m_federate_is_false(string version)
    {
        var room = new TestRoom(VersionOf(version));
        var content = room.Version.CreatorIsSender
            ? """{ "room_version": "VERSION", "m.federate": false }"""
            : """{ "room_version": "VERSION", "creator": "@alice:example.org", "m.federate": false }""";
        room.Send(Alice, EventTypes.Create, "", content.Replace("VERSION", version));
        room.Send(Alice, EventTypes.Member, Alice.Value, """{ "membership": "join" }""");
        room.Send(Alice, EventTypes.JoinRules, "", """{ "join_rule": "public" }""");

        AuthAssert.Rejected(room.CheckMembership(Eve, Eve, Membership.Join), "not federated");
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Join));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Allows_other_servers_when_m_federate_is_absent(string version)
    {
        var room = Create(version);
        AuthAssert.Allowed(room.CheckMembership(Eve, Eve, Membership.Join));
    }

    [Theory]
    [InlineData("10", Membership.Leave)]
    [InlineData("11", Membership.Invite)]
    [InlineData("10", Membership.Ban)]
    [InlineData("11", Membership.Knock)]
    [InlineData("11", null)]
    public void Rejects_events_from_senders_who_are_not_joined(string version, string? membership)
    {
        var room = Create(version);
        if (membership is not null)
            room.SetMembership(Carol, membership);
        AuthAssert.Rejected(room.Check(Carol, "m.room.message", null, Text), "not joined");
        AuthAssert.Rejected(room.Check(Carol, "m.room.topic", "", """{ "topic": "t" }"""), "not joined");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Allows_messages_from_joined_members_at_the_events_default(string version)
    {
        var room = Create(version);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Allowed(room.Check(Carol, "m.room.message", null, Text));
        AuthAssert.Allowed(room.Check(Carol, "com.example.custom", null, "{}"));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Uses_the_events_map_then_events_default_for_message_events(string version)
    {
        var room = Create(version, powerLevels: """
            { "events_default": 20, "events": { "m.room.message": 0, "m.reaction": 60 },
              "users": { "@alice:example.org": 100, "@bob:example.org": 50 } }
            """);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);

        AuthAssert.Allowed(room.Check(Carol, "m.room.message", null, Text));
        AuthAssert.Rejected(room.Check(Carol, "m.sticker", null, "{}"), "needs power level 20");
        AuthAssert.Allowed(room.Check(Bob, "m.sticker", null, "{}"));
        AuthAssert.Rejected(room.Check(Bob, "m.reaction", null, "{}"), "needs power level 60");
        AuthAssert.Allowed(room.Check(Alice, "m.reaction", null, "{}"));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Uses_the_events_map_then_state_default_for_state_events(string version)
    {
        var room = Create(version, powerLevels: """
            { "state_default": 40, "events": { "m.room.topic": 0, "m.room.name": 60 },
              "users": { "@alice:example.org": 100, "@bob:example.org": 50 } }
            """);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);

        AuthAssert.Allowed(room.Check(Carol, "m.room.topic", "", """{ "topic": "t" }"""));
        AuthAssert.Rejected(room.Check(Carol, "m.room.avatar", "", "{}"), "needs power level 40");
        AuthAssert.Allowed(room.Check(Bob, "m.room.avatar", "", "{}"));
        AuthAssert.Rejected(room.Check(Bob, "m.room.name", "", """{ "name": "n" }"""), "needs power level 60");
        // The same type as a message event falls under events_default only if not listed.
        AuthAssert.Allowed(room.Check(Carol, "m.room.avatar", null, "{}"));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void State_default_is_50_when_the_power_levels_event_omits_it(string version)
    {
        var room = Create(version, powerLevels: """{ "users": { "@alice:example.org": 100, "@bob:example.org": 50 } }""");
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Rejected(room.Check(Carol, "m.room.topic", "", "{}"), "needs power level 50");
        AuthAssert.Allowed(room.Check(Bob, "m.room.topic", "", "{}"));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Without_power_levels_any_member_may_send_state_but_the_creator_alone_has_100(string version)
    {
        var room = Create(version, powerLevels: null);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Allowed(room.Check(Carol, "m.room.topic", "", "{}"));
        AuthAssert.Allowed(room.Check(Carol, "m.room.message", null, Text));
        // Banning needs 50: only the creator (100 without a power levels event) may.
        room.SetMembership(Dave, Membership.Join);
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Ban), "needs power level 50");
        AuthAssert.Allowed(room.CheckMembership(Alice, Dave, Membership.Ban));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void State_keys_starting_with_at_must_be_the_sender(string version)
    {
        var room = Create(version, powerLevels: """{ "state_default": 0, "users": { "@alice:example.org": 100 } }""");
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Allowed(room.Check(Carol, "com.example.profile", Carol.Value, "{}"));
        AuthAssert.Rejected(room.Check(Carol, "com.example.profile", Dave.Value, "{}"), "starting with '@'");
        AuthAssert.Rejected(room.Check(Alice, "com.example.profile", Carol.Value, "{}"), "starting with '@'");
        AuthAssert.Allowed(room.Check(Carol, "com.example.profile", "carol", "{}"));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Third_party_invite_events_need_the_invite_level(string version)
    {
        var room = Create(version, powerLevels: """{ "invite": 50, "users": { "@alice:example.org": 100, "@bob:example.org": 50 } }""");
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        const string content = """{ "display_name": "x", "key_validity_url": "https://id/", "public_key": "k" }""";
        AuthAssert.Allowed(room.Check(Bob, EventTypes.ThirdPartyInvite, "token", content));
        AuthAssert.Rejected(room.Check(Carol, EventTypes.ThirdPartyInvite, "token", content), "invite level 50");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Redaction_events_pass_like_messages_whatever_the_redact_level(string version)
    {
        var room = Create(version);
        room.SetMembership(Carol, Membership.Join);
        var target = room.Send(Alice, "m.room.message", null, Text);
        var redaction = room.Build(Carol, EventTypes.Redaction, null, "{}", redacts: target.EventId);
        AuthAssert.Allowed(room.Check(redaction));
    }
}
