using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

/// <summary>The authorization rules where the room versions 1-11 differ, each against every version.</summary>
public class RoomVersionAuthTests
{
    public static TheoryData<string> AllVersions => new(RoomVersion.Supported.Select(v => v.Id));

    private static bool From(string version, int first) => int.Parse(version) >= first;

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Every_version_builds_a_room_whose_events_pass_its_rules(string version)
    {
        var room = Create(version);
        room.Send(Bob, EventTypes.Member, Bob.Value, """{ "membership": "join" }""");
        room.Send(Bob, "m.room.message", null, """{ "msgtype": "m.text", "body": "hi" }""");
        Assert.Equal(From(version, 11), !room.State[StateEventKey.Create].Content.TryGetProperty("creator", out _));
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Create_events_need_a_creator_before_v11(string version)
    {
        var room = new TestRoom(VersionOf(version));
        var result = room.Check(Alice, EventTypes.Create, "", $$"""{ "room_version": "{{version}}" }""");
        if (From(version, 11)) AuthAssert.Allowed(result);
        else AuthAssert.Rejected(result, "creator");
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Aliases_events_are_the_senders_servers_business_only_in_v1_to_v5(string version)
    {
        var room = Create(version);
        room.SetMembership(Carol, Membership.Join);
        var own = room.Check(Carol, EventTypes.Aliases, "example.org", """{ "aliases": ["#a:example.org"] }""");
        var other = room.Check(Carol, EventTypes.Aliases, "elsewhere.org", """{ "aliases": ["#a:elsewhere.org"] }""");
        // Eve is not even in the room: in v1-v5 the aliases rule comes before the membership check.
        var outsider = room.Check(Eve, EventTypes.Aliases, "elsewhere.org", """{ "aliases": ["#a:elsewhere.org"] }""");
        if (From(version, 6))
        {
            // From v6 an ordinary state event: Carol (0) is below state_default (50).
            AuthAssert.Rejected(own, "power level");
            AuthAssert.Rejected(outsider, "not joined");
        }
        else
        {
            AuthAssert.Allowed(own);
            AuthAssert.Rejected(other, "sender's server");
            AuthAssert.Allowed(outsider);
        }
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Knocking_exists_from_v7(string version)
    {
        var room = Create(version, JoinRules.Knock);
        var knock = room.CheckMembership(Carol, Carol, Membership.Knock);
        if (From(version, 7)) AuthAssert.Allowed(knock);
        else AuthAssert.Rejected(knock, "Unknown membership");

        // Before v7 "knock" is no join rule at all, so not even an invite lets one in.
        room.SetMembership(Carol, Membership.Invite, Alice);
        var join = room.CheckMembership(Carol, Carol, Membership.Join);
        if (From(version, 7)) AuthAssert.Allowed(join);
        else AuthAssert.Rejected(join, "not invited");
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Knock_restricted_exists_from_v10(string version)
    {
        var room = Create(version, JoinRules.KnockRestricted);
        var knock = room.CheckMembership(Carol, Carol, Membership.Knock);
        if (From(version, 10)) AuthAssert.Allowed(knock);
        else if (From(version, 7)) AuthAssert.Rejected(knock, "does not allow knocking");
        else AuthAssert.Rejected(knock, "Unknown membership");
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Restricted_joins_need_an_authoriser_who_is_joined_and_may_invite_from_v8(string version)
    {
        var room = Create(version, JoinRules.Restricted, """
            { "invite": 50, "users": { "@alice:example.org": 100, "@bob:example.org": 50, "@dave:example.org": 10 },
              "events": { "m.room.power_levels": 100 } }
            """);
        room.SetMembership(Dave, Membership.Join);
        var viaAlice = room.CheckMembership(Carol, Carol, Membership.Join, "\"join_authorised_via_users_server\": \"@alice:example.org\"");
        var viaBob = room.CheckMembership(Carol, Carol, Membership.Join, "\"join_authorised_via_users_server\": \"@bob:example.org\"");
        var viaDave = room.CheckMembership(Carol, Carol, Membership.Join, "\"join_authorised_via_users_server\": \"@dave:example.org\"");
        var alone = room.CheckMembership(Carol, Carol, Membership.Join);
        if (From(version, 8))
        {
            AuthAssert.Allowed(viaAlice);
            AuthAssert.Rejected(viaBob, "not joined");
            AuthAssert.Rejected(viaDave, "invite level");
            AuthAssert.Rejected(alone, "join_authorised_via_users_server");
        }
        else
        {
            // "restricted" means nothing before v8, and neither does the authoriser.
            AuthAssert.Rejected(viaAlice, "not invited");
            AuthAssert.Rejected(alone, "not invited");
        }
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Power_levels_may_be_strings_holding_integers_before_v10(string version)
    {
        var room = Create(version);
        var stringy = room.Check(Alice, EventTypes.PowerLevels, "", """
            { "ban": "60", "users": { "@alice:example.org": "100" }, "events": { "m.room.power_levels": 100 } }
            """);
        var notANumber = room.Check(Alice, EventTypes.PowerLevels, "", """{ "ban": "sixty", "users": { "@alice:example.org": 100 } }""");
        AuthAssert.Rejected(notANumber, "'ban' must be an integer");
        if (From(version, 10))
        {
            AuthAssert.Rejected(stringy, "must be an integer");
            return;
        }
        AuthAssert.Allowed(stringy);
        room.Send(Alice, EventTypes.PowerLevels, "", """
            { "ban": "60", "users": { "@alice:example.org": " 100 ", "@bob:example.org": "+50" }, "events": { "m.room.power_levels": 100 } }
            """);
        var levels = PowerLevels.FromState(room.Version, room.State);
        Assert.Equal(60, levels.Ban);
        Assert.Equal(100, levels.UserLevel(Alice.Value));
        Assert.Equal(50, levels.UserLevel(Bob.Value));
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Notifications_levels_are_guarded_from_v6(string version)
    {
        var room = Create(version, powerLevels: """
            { "users": { "@alice:example.org": 100, "@bob:example.org": 50 },
              "events": { "m.room.power_levels": 50 }, "notifications": { "room": 100 } }
            """);
        room.SetMembership(Bob, Membership.Join);
        var lowered = room.Check(Bob, EventTypes.PowerLevels, "", """
            { "users": { "@alice:example.org": 100, "@bob:example.org": 50 },
              "events": { "m.room.power_levels": 50 }, "notifications": { "room": 0 } }
            """);
        if (From(version, 6)) AuthAssert.Rejected(lowered, "notifications['room']");
        else AuthAssert.Allowed(lowered);
    }
}

public class RoomVersionRedactionAuthTests
{
    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    [InlineData("3")]
    [InlineData("11")]
    public void In_v1_and_v2_redacting_another_servers_event_needs_the_redact_level(string version)
    {
        var room = Create(version);
        room.SetMembership(Carol, Membership.Join);
        var target = RoomVersion.TryGet(version, out var v) && v.EventIdInEvent
            ? EventId.Opaque("abc", "elsewhere.org")
            : EventId.FromReferenceHash(new byte[32]);
        var local = room.State[StateEventKey.JoinRules].EventId;
        var remote = room.Check(room.Build(Carol, EventTypes.Redaction, null, "{}", redacts: target));
        var sameServer = room.Check(room.Build(Carol, EventTypes.Redaction, null, "{}", redacts: local));
        var moderator = room.Check(room.Build(Alice, EventTypes.Redaction, null, "{}", redacts: target));
        AuthAssert.Allowed(sameServer);
        AuthAssert.Allowed(moderator);
        if (int.Parse(version) <= 2) AuthAssert.Rejected(remote, "another server");
        else AuthAssert.Allowed(remote); // judged later, when the redaction is applied
    }
}
