using System.Security.Cryptography;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

public class CreateEventAuthTests
{
    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Allows_a_well_formed_create_event(string version)
    {
        var room = new TestRoom(VersionOf(version));
        AuthAssert.Allowed(room.Check(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice)));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Rejects_previous_events(string version)
    {
        var room = new TestRoom(VersionOf(version));
        var prev = EventId.FromReferenceHash(SHA256.HashData("x"u8));
        var pdu = room.Build(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice), prevEvents: [prev]);
        AuthAssert.Rejected(room.Check(pdu), "previous events");
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Rejects_a_room_id_from_another_server_than_the_sender(string version)
    {
        var room = new TestRoom(VersionOf(version), RoomId.Parse("!room:elsewhere.org"));
        AuthAssert.Rejected(room.Check(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice)), "server");
    }

    [Theory]
    [InlineData("10", """{ "creator": "@alice:example.org", "room_version": "12" }""", "Unsupported room version")]
    [InlineData("10", """{ "creator": "@alice:example.org", "room_version": 10 }""", "Unsupported room version")]
    [InlineData("11", """{ "room_version": "banana" }""", "Unsupported room version")]
    [InlineData("10", """{ "creator": "@alice:example.org", "room_version": "11" }""", "declares room version 11")]
    [InlineData("11", """{ "room_version": "10" }""", "declares room version 10")]
    public void Rejects_unrecognised_or_mismatched_room_versions(string version, string content, string reason)
    {
        var room = new TestRoom(VersionOf(version));
        AuthAssert.Rejected(room.Check(Alice, EventTypes.Create, "", content), reason);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Allows_an_absent_room_version(string version)
    {
        var room = new TestRoom(VersionOf(version));
        AuthAssert.Allowed(room.Check(Alice, EventTypes.Create, "", """{ "creator": "@alice:example.org" }"""));
    }

    [Fact]
    public void V10_requires_a_creator()
    {
        var room = new TestRoom(RoomVersion.V10);
        AuthAssert.Rejected(room.Check(Alice, EventTypes.Create, "", """{ "room_version": "10" }"""), "creator");
    }

    [Fact]
    public void V11_does_not_require_a_creator_and_ignores_one()
    {
        var room = new TestRoom(RoomVersion.V11);
        AuthAssert.Allowed(room.Check(Alice, EventTypes.Create, "", """{ "room_version": "11" }"""));
        AuthAssert.Allowed(room.Check(Alice, EventTypes.Create, "", """{ "room_version": "11", "creator": "@bob:example.org" }"""));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void A_second_create_event_is_rejected_because_it_has_previous_events(string version)
    {
        var room = Create(version);
        AuthAssert.Rejected(room.Check(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice)), "previous events");
    }
}
