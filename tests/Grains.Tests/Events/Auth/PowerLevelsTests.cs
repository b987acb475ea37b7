using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

public class PowerLevelsTests
{
    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Without_a_power_levels_event_the_creator_has_100_and_defaults_apply(string version)
    {
        var room = Create(version, powerLevels: null);
        var levels = PowerLevels.FromState(room.Version, room.State);
        Assert.False(levels.HasPowerLevelsEvent);
        Assert.Equal(100, levels.UserLevel(Alice.Value));
        Assert.Equal(0, levels.UserLevel(Bob.Value));
        Assert.Equal((50L, 50L, 50L, 0L), (levels.Ban, levels.Kick, levels.Redact, levels.Invite));
        Assert.Equal(0, levels.StateDefault);
        Assert.Equal(0, levels.EventsDefault);
        Assert.Equal(0, levels.RequiredLevel("m.room.name", isState: true));
    }

    [Fact]
    public void Before_v11_creator_is_the_creator_field_and_from_v11_the_sender()
    {
        foreach (var version in RoomVersion.Supported)
        {
            var room = new TestRoom(version);
            var create = room.Send(Alice, EventTypes.Create, "", $$"""{ "room_version": "{{version.Id}}", "creator": "@bob:example.org" }""");
            var expected = version.CreatorIsSender ? Alice : Bob;
            Assert.Equal(expected.Value, RoomCreator.Of(version, create));
            Assert.Equal(100, PowerLevels.FromState(version, room.State).UserLevel(expected.Value));
        }
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void With_a_power_levels_event_its_values_and_defaults_apply(string version)
    {
        var room = Create(version, powerLevels: """
            { "users_default": 5, "users": { "@alice:example.org": 100 }, "events": { "m.room.name": 70 }, "ban": 80 }
            """);
        var levels = PowerLevels.FromState(room.Version, room.State);
        Assert.True(levels.HasPowerLevelsEvent);
        Assert.Equal(100, levels.UserLevel(Alice.Value));
        Assert.Equal(5, levels.UserLevel(Carol.Value));
        Assert.Equal(80, levels.Ban);
        Assert.Equal(50, levels.Kick);
        Assert.Equal(0, levels.Invite);
        Assert.Equal(50, levels.StateDefault);
        Assert.Equal(70, levels.RequiredLevel("m.room.name", isState: true));
        Assert.Equal(70, levels.RequiredLevel("m.room.name", isState: false));
        Assert.Equal(50, levels.RequiredLevel("m.room.topic", isState: true));
        Assert.Equal(0, levels.RequiredLevel("m.room.message", isState: false));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Default_content_is_accepted_as_the_first_power_levels_event_and_makes_the_creator_admin(string version)
    {
        var room = Create(version, powerLevels: null);
        var content = PowerLevels.DefaultContent(Alice).ToJsonString();
        room.Send(Alice, EventTypes.PowerLevels, "", content);

        var levels = PowerLevels.FromState(room.Version, room.State);
        Assert.Equal(100, levels.UserLevel(Alice.Value));
        Assert.Equal(0, levels.UserLevel(Carol.Value));
        Assert.Equal(100, levels.RequiredLevel(EventTypes.PowerLevels, isState: true));
        Assert.Equal(50, levels.RequiredLevel("m.room.topic", isState: true));
        Assert.Equal(0, levels.RequiredLevel("m.room.message", isState: false));
        Assert.Equal((50L, 50L, 50L, 0L), (levels.Ban, levels.Kick, levels.Redact, levels.Invite));

        room.SetMembership(Carol, Membership.Join);
        AuthAssert.Rejected(room.Check(Carol, EventTypes.PowerLevels, "", content), "needs power level 100");
    }
}
