using System.Text;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events.Auth;

public class PduTests
{
    private static readonly EventId Id = EventId.Parse("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg");

    private static Pdu Parse(string json) => Pdu.Parse(Id, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_the_fields_authorization_needs()
    {
        var pdu = Parse("""
            { "type": "m.room.member", "state_key": "@a:x", "room_id": "!r:x", "sender": "@a:x",
              "content": { "membership": "join", "n": 1 }, "prev_events": ["$p"], "auth_events": ["$a", "$b"] }
            """);
        Assert.Equal("m.room.member", pdu.Type);
        Assert.Equal("@a:x", pdu.StateKey);
        Assert.True(pdu.IsState);
        Assert.Equal("!r:x", pdu.RoomId.Value);
        Assert.Equal("x", pdu.Sender.Server.Value);
        Assert.Equal("join", pdu.GetContentString("membership"));
        Assert.Null(pdu.GetContentString("n"));
        Assert.Null(pdu.GetContentString("missing"));
        Assert.Equal(["$p"], pdu.PrevEvents);
        Assert.Equal(["$a", "$b"], pdu.AuthEvents);
        Assert.Equal(Id, pdu.EventId);
    }

    [Fact]
    public void Message_events_have_no_state_key()
    {
        var pdu = Parse("""{ "type": "m.room.message", "room_id": "!r:x", "sender": "@a:x", "content": {} }""");
        Assert.Null(pdu.StateKey);
        Assert.False(pdu.IsState);
        Assert.Empty(pdu.PrevEvents);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("""{ "room_id": "!r:x", "sender": "@a:x", "content": {} }""")]
    [InlineData("""{ "type": 1, "room_id": "!r:x", "sender": "@a:x", "content": {} }""")]
    [InlineData("""{ "type": "t", "room_id": "r", "sender": "@a:x", "content": {} }""")]
    [InlineData("""{ "type": "t", "room_id": "!r:x", "sender": "a", "content": {} }""")]
    [InlineData("""{ "type": "t", "room_id": "!r:x", "sender": "@a:x" }""")]
    [InlineData("""{ "type": "t", "room_id": "!r:x", "sender": "@a:x", "content": [] }""")]
    [InlineData("""{ "type": "t", "room_id": "!r:x", "sender": "@a:x", "content": {}, "state_key": 5 }""")]
    [InlineData("""{ "type": "t", "room_id": "!r:x", "sender": "@a:x", "content": {}, "prev_events": "$p" }""")]
    [InlineData("""{ "type": "t", "room_id": "!r:x", "sender": "@a:x", "content": {}, "auth_events": [1] }""")]
    public void Refuses_malformed_events(string json) => Assert.Throws<FormatException>(() => Parse(json));
}
