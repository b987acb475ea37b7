using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Tests.Federation;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

/// <summary>Rule 4: m.room.member.</summary>
public class MembershipAuthTests
{
    // 4.1 and format

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Rejects_member_events_without_state_key_or_membership(string version)
    {
        var room = Create(version);
        AuthAssert.Rejected(room.Check(Carol, EventTypes.Member, null, """{ "membership": "join" }"""), "state key");
        AuthAssert.Rejected(room.Check(Carol, EventTypes.Member, Carol.Value, """{ "displayname": "C" }"""), "content.membership");
        AuthAssert.Rejected(room.Check(Carol, EventTypes.Member, "carol", """{ "membership": "join" }"""), "user ID");
    }

    [Theory]
    [InlineData("10", "\"foo\"")]
    [InlineData("11", "\"JOIN\"")]
    [InlineData("11", "1")]
    [InlineData("10", "null")]
    public void Rejects_unknown_memberships(string version, string membership)
    {
        var room = Create(version);
        AuthAssert.Rejected(room.Check(Carol, EventTypes.Member, Carol.Value, $$"""{ "membership": {{membership}} }"""), "Unknown membership");
    }

    // 4.2

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Joins_authorised_via_another_server_need_its_signature(string version)
    {
        var room = Create(version, JoinRules.Restricted);
        room.SetMembership(Eve, Membership.Join);
        var viaEve = room.Build(Carol, EventTypes.Member, Carol.Value,
            MembershipContent(Membership.Join, "\"join_authorised_via_users_server\": \"@eve:elsewhere.org\""));
        AuthAssert.Rejected(room.Check(viaEve), "not signed by that server");

        var signed = JsonNode.Parse(viaEve.Json.GetRawText())!.AsObject();
        EventSigning.Sign(room.Version, signed, TestSigningKeys.For("elsewhere.org"));
        AuthAssert.Allowed(room.Check(new Pdu(viaEve.EventId, JsonSerializer.SerializeToElement(signed))));

        AuthAssert.Rejected(
            room.CheckMembership(Carol, Carol, Membership.Join, "\"join_authorised_via_users_server\": 5"),
            "not a user ID");
    }

    // 4.3 join

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void The_creator_may_join_right_after_the_create_event(string version)
    {
        var room = new TestRoom(VersionOf(version));
        room.Send(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice));
        AuthAssert.Allowed(room.CheckMembership(Alice, Alice, Membership.Join));
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "not invited");
    }

    [Fact]
    public void V10_takes_the_creator_from_the_creator_field()
    {
        var room = new TestRoom(RoomVersion.V10);
        room.Send(Alice, EventTypes.Create, "", """{ "room_version": "10", "creator": "@bob:example.org" }""");
        AuthAssert.Allowed(room.CheckMembership(Bob, Bob, Membership.Join));
        AuthAssert.Rejected(room.CheckMembership(Alice, Alice, Membership.Join), "not invited");
    }

    [Fact]
    public void V11_takes_the_creator_from_the_sender_and_ignores_a_creator_field()
    {
        var room = new TestRoom(RoomVersion.V11);
        room.Send(Alice, EventTypes.Create, "", """{ "room_version": "11", "creator": "@bob:example.org" }""");
        AuthAssert.Allowed(room.CheckMembership(Alice, Alice, Membership.Join));
        AuthAssert.Rejected(room.CheckMembership(Bob, Bob, Membership.Join), "not invited");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void The_creator_shortcut_needs_the_create_event_as_only_previous_event(string version)
    {
        var room = new TestRoom(VersionOf(version));
        var create = room.Send(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice));
        var other = room.Force(Alice, "m.room.message", null, "{}");
        var join = room.Build(Alice, EventTypes.Member, Alice.Value, """{ "membership": "join" }""", prevEvents: [create.EventId, other.EventId]);
        AuthAssert.Rejected(room.Check(join), "not invited");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_join_only_on_their_own_behalf(string version)
    {
        var room = Create(version);
        AuthAssert.Rejected(room.CheckMembership(Alice, Carol, Membership.Join), "own behalf");
    }

    [Theory]
    [InlineData("10", JoinRules.Public)]
    [InlineData("11", JoinRules.Invite)]
    public void Banned_users_cannot_join(string version, string joinRule)
    {
        var room = Create(version, joinRule);
        room.SetMembership(Carol, Membership.Ban, Alice);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "banned");
    }

    [Theory]
    [InlineData("10", null)]
    [InlineData("11", Membership.Leave)]
    [InlineData("11", Membership.Knock)]
    public void Anyone_not_banned_may_join_a_public_room(string version, string? membership)
    {
        var room = Create(version, JoinRules.Public);
        if (membership is not null)
            room.SetMembership(Carol, membership);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Join));
        AuthAssert.Allowed(room.CheckMembership(Eve, Eve, Membership.Join));
    }

    [Theory]
    [InlineData("10", JoinRules.Invite)]
    [InlineData("11", JoinRules.Invite)]
    [InlineData("10", JoinRules.Knock)]
    [InlineData("11", JoinRules.Knock)]
    public void Invite_and_knock_rooms_admit_only_invited_or_joined_users(string version, string joinRule)
    {
        var room = Create(version, joinRule);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "not invited");
        room.SetMembership(Carol, Membership.Knock);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "not invited");
        room.SetMembership(Carol, Membership.Invite, Alice);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Join));
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Join, "\"displayname\": \"Carol\""));
    }

    [Theory]
    [InlineData("10", JoinRules.Restricted)]
    [InlineData("11", JoinRules.KnockRestricted)]
    public void Restricted_rooms_admit_invited_users_and_refuse_others_without_an_authoriser(string version, string joinRule)
    {
        var room = Create(version, joinRule);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "join_authorised_via_users_server");
        room.SetMembership(Carol, Membership.Invite, Alice);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Join));
    }

    [Theory]
    [InlineData("10", JoinRules.Private)]
    [InlineData("11", "something_else")]
    public void Other_join_rules_refuse_uninvited_joins(string version, string joinRule)
    {
        var room = Create(version, joinRule);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "not invited");
        room.SetMembership(Carol, Membership.Invite, Alice);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "not invited");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void A_room_without_join_rules_admits_only_invited_users(string version)
    {
        var room = new TestRoom(VersionOf(version));
        room.Send(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice));
        room.Send(Alice, EventTypes.Member, Alice.Value, """{ "membership": "join" }""");
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Join), "not invited");
        room.Send(Alice, EventTypes.Member, Carol.Value, """{ "membership": "invite" }""");
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Join));
    }

    // 4.4 invite

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Joined_members_at_the_invite_level_may_invite(string version)
    {
        var room = Create(version, JoinRules.Invite);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Allowed(room.CheckMembership(Carol, Dave, Membership.Invite));
        AuthAssert.Allowed(room.CheckMembership(Carol, Eve, Membership.Invite));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Inviting_needs_the_invite_level(string version)
    {
        var room = Create(version, JoinRules.Invite, """{ "invite": 50, "users": { "@alice:example.org": 100, "@bob:example.org": 50 } }""");
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Invite), "needs power level 50");
        AuthAssert.Allowed(room.CheckMembership(Bob, Dave, Membership.Invite));
    }

    [Theory]
    [InlineData("10", null)]
    [InlineData("11", Membership.Invite)]
    [InlineData("10", Membership.Leave)]
    public void Only_joined_members_may_invite(string version, string? senderMembership)
    {
        var room = Create(version, JoinRules.Invite);
        if (senderMembership is not null)
            room.SetMembership(Carol, senderMembership, Alice);
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Invite), "Only joined members");
    }

    [Theory]
    [InlineData("10", Membership.Join, "already joined")]
    [InlineData("11", Membership.Ban, "already banned")]
    public void Joined_or_banned_users_cannot_be_invited(string version, string targetMembership, string reason)
    {
        var room = Create(version);
        room.SetMembership(Dave, targetMembership, Alice);
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite), reason);
    }

    [Theory]
    [InlineData("10", Membership.Leave)]
    [InlineData("11", Membership.Invite)]
    [InlineData("11", Membership.Knock)]
    public void Left_invited_or_knocking_users_can_be_invited(string version, string targetMembership)
    {
        var room = Create(version, JoinRules.Knock);
        room.SetMembership(Dave, targetMembership, targetMembership == Membership.Invite ? Alice : Dave);
        AuthAssert.Allowed(room.CheckMembership(Alice, Dave, Membership.Invite));
    }

    // 4.5 leave

    [Theory]
    [InlineData("10", Membership.Join)]
    [InlineData("11", Membership.Invite)]
    [InlineData("10", Membership.Knock)]
    public void Users_may_leave_or_decline_on_their_own_behalf(string version, string membership)
    {
        var room = Create(version, JoinRules.Knock);
        room.SetMembership(Carol, membership, membership == Membership.Invite ? Alice : Carol);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Leave));
    }

    [Theory]
    [InlineData("10", null)]
    [InlineData("11", Membership.Leave)]
    [InlineData("10", Membership.Ban)]
    public void Users_cannot_leave_when_not_in_the_room_or_banned(string version, string? membership)
    {
        var room = Create(version);
        if (membership is not null)
            room.SetMembership(Carol, membership, Alice);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Leave), "cannot leave");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Kicking_needs_the_kick_level_and_a_higher_level_than_the_target(string version)
    {
        var room = Create(version);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        room.SetMembership(Dave, Membership.Join);

        AuthAssert.Allowed(room.CheckMembership(Bob, Carol, Membership.Leave));
        AuthAssert.Allowed(room.CheckMembership(Alice, Bob, Membership.Leave));
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Leave), "needs power level 50");
        AuthAssert.Rejected(room.CheckMembership(Bob, Alice, Membership.Leave), "above the target");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Kicking_an_equal_needs_a_strictly_higher_level(string version)
    {
        var room = Create(version, powerLevels: """{ "kick": 0, "users": { "@alice:example.org": 100 } }""");
        room.SetMembership(Carol, Membership.Join);
        room.SetMembership(Dave, Membership.Join);
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Leave), "above the target");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Kickers_must_be_joined(string version)
    {
        var room = Create(version);
        room.SetMembership(Bob, Membership.Leave);
        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Rejected(room.CheckMembership(Bob, Carol, Membership.Leave), "Only joined members");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Unbanning_needs_both_ban_and_kick_levels(string version)
    {
        var room = Create(version, powerLevels: """
            { "kick": 10, "ban": 60, "users": { "@alice:example.org": 100, "@bob:example.org": 50, "@carol:example.org": 70 } }
            """);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        room.SetMembership(Dave, Membership.Ban, Alice);

        AuthAssert.Rejected(room.CheckMembership(Bob, Dave, Membership.Leave), "ban level 60");
        AuthAssert.Allowed(room.CheckMembership(Carol, Dave, Membership.Leave));
    }

    // 4.6 ban

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Banning_needs_the_ban_level_and_a_higher_level_than_the_target(string version)
    {
        var room = Create(version);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);

        AuthAssert.Allowed(room.CheckMembership(Bob, Carol, Membership.Ban));
        AuthAssert.Allowed(room.CheckMembership(Bob, Eve, Membership.Ban));
        AuthAssert.Allowed(room.CheckMembership(Alice, Bob, Membership.Ban));
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Ban), "needs power level 50");
        AuthAssert.Rejected(room.CheckMembership(Bob, Alice, Membership.Ban), "above the target");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Banners_must_be_joined(string version)
    {
        var room = Create(version);
        room.SetMembership(Bob, Membership.Invite, Alice);
        AuthAssert.Rejected(room.CheckMembership(Bob, Carol, Membership.Ban), "Only joined members");
    }

    // 4.7 knock

    [Theory]
    [InlineData("10", JoinRules.Knock)]
    [InlineData("11", JoinRules.KnockRestricted)]
    public void Outsiders_may_knock_on_knock_rooms(string version, string joinRule)
    {
        var room = Create(version, joinRule);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Knock));
        room.SetMembership(Carol, Membership.Leave);
        AuthAssert.Allowed(room.CheckMembership(Carol, Carol, Membership.Knock));
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Knock), "own behalf");
    }

    [Theory]
    [InlineData("10", JoinRules.Public)]
    [InlineData("11", JoinRules.Invite)]
    [InlineData("11", JoinRules.Restricted)]
    public void Knocking_needs_a_knock_join_rule(string version, string joinRule)
    {
        var room = Create(version, joinRule);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Knock), "does not allow knocking");
    }

    [Theory]
    [InlineData("10", Membership.Ban)]
    [InlineData("11", Membership.Invite)]
    [InlineData("10", Membership.Join)]
    public void Banned_invited_or_joined_users_cannot_knock(string version, string membership)
    {
        var room = Create(version, JoinRules.Knock);
        room.SetMembership(Carol, membership, Alice);
        AuthAssert.Rejected(room.CheckMembership(Carol, Carol, Membership.Knock), "cannot knock");
    }
}
