using System.Security.Cryptography;
using System.Text;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

public class RedactionAuthorizerTests
{
    private const string Text = """{ "msgtype": "m.text", "body": "hi" }""";

    private static (TestRoom Room, Pdu CarolsMessage, Pdu DavesMessage) Setup(string version)
    {
        var room = Create(version);
        room.SetMembership(Bob, Membership.Join);
        room.SetMembership(Carol, Membership.Join);
        room.SetMembership(Dave, Membership.Join);
        var carols = room.Send(Carol, "m.room.message", null, Text);
        var daves = room.Send(Dave, "m.room.message", null, Text);
        return (room, carols, daves);
    }

    private static AuthResult Redact(TestRoom room, UserId sender, Pdu target, Pdu? original) =>
        RedactionAuthorizer.Authorize(room.Version, room.Build(sender, EventTypes.Redaction, null, "{}", redacts: target.EventId),
            original, room.State);

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_at_the_redact_level_may_redact_anyones_events(string version)
    {
        var (room, carols, _) = Setup(version);
        AuthAssert.Allowed(Redact(room, Bob, carols, carols));
        AuthAssert.Allowed(Redact(room, Bob, carols, original: null));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Users_below_the_redact_level_may_redact_only_their_own_events(string version)
    {
        var (room, carols, daves) = Setup(version);
        AuthAssert.Allowed(Redact(room, Carol, carols, carols));
        AuthAssert.Rejected(Redact(room, Carol, daves, daves), "needs power level 50");
        AuthAssert.Rejected(Redact(room, Carol, carols, original: null), "needs power level 50");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void The_redact_level_comes_from_the_power_levels(string version)
    {
        var open = Create(version, powerLevels: """{ "redact": 0, "users": { "@alice:example.org": 100 } }""");
        open.SetMembership(Carol, Membership.Join);
        var alices = open.Send(Alice, "m.room.message", null, Text);
        AuthAssert.Allowed(Redact(open, Carol, alices, alices));

        var strict = Create(version, powerLevels: """{ "redact": 100, "users": { "@alice:example.org": 100, "@bob:example.org": 99 } }""");
        strict.SetMembership(Bob, Membership.Join);
        strict.SetMembership(Carol, Membership.Join);
        var carols = strict.Send(Carol, "m.room.message", null, Text);
        AuthAssert.Rejected(Redact(strict, Bob, carols, carols), "needs power level 100; the sender has 99");
        AuthAssert.Allowed(Redact(strict, Alice, carols, carols));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Rejects_an_original_event_that_is_not_the_target_or_in_another_room(string version)
    {
        var (room, carols, daves) = Setup(version);
        var redaction = room.Build(Carol, EventTypes.Redaction, null, "{}", redacts: carols.EventId);
        AuthAssert.Rejected(RedactionAuthorizer.Authorize(room.Version, redaction, daves, room.State), "not the one being redacted");

        var elsewhere = new TestRoom(room.Version, RoomId.Parse("!other:example.org"));
        var foreign = elsewhere.Build(Carol, "m.room.message", null, Text);
        var redactForeign = room.Build(Carol, EventTypes.Redaction, null, "{}", redacts: foreign.EventId);
        AuthAssert.Rejected(RedactionAuthorizer.Authorize(room.Version, redactForeign, foreign, room.State), "another room");
    }

    [Fact]
    public void Rejects_events_that_are_not_redactions()
    {
        var (room, carols, _) = Setup("11");
        AuthAssert.Rejected(RedactionAuthorizer.Authorize(room.Version, carols, carols, room.State), "Not an m.room.redaction");
    }

    [Theory]
    [InlineData("10", """{ "redacts": "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg" }""", null)]
    [InlineData("11", "{}", "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg")]
    [InlineData("10", "{}", "not-an-event-id")]
    public void Rejects_redactions_without_a_target_where_the_version_expects_it(string version, string content, string? topLevel)
    {
        var room = Create(version);
        var redactsMember = topLevel is null ? "" : $"\"redacts\": \"{topLevel}\",";
        var json = Encoding.UTF8.GetBytes($$"""
            { "type": "m.room.redaction", {{redactsMember}} "room_id": "{{room.RoomId}}", "sender": "@alice:example.org",
              "content": {{content}}, "depth": 9, "origin_server_ts": 1, "prev_events": [], "auth_events": [] }
            """);
        var redaction = Pdu.Parse(EventId.FromReferenceHash(SHA256.HashData(json)), json);
        Assert.Null(RedactionAuthorizer.GetRedactedEventId(room.Version, redaction));
        AuthAssert.Rejected(RedactionAuthorizer.Authorize(room.Version, redaction, null, room.State), "does not name");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Finds_the_target_where_the_version_puts_it(string version)
    {
        var (room, carols, _) = Setup(version);
        var redaction = room.Build(Carol, EventTypes.Redaction, null, """{ "reason": "oops" }""", redacts: carols.EventId);
        Assert.Equal(carols.EventId, RedactionAuthorizer.GetRedactedEventId(room.Version, redaction));
    }
}
