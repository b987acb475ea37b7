using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;

namespace HomeServer.Grains.Tests.Rooms;

public class RoomCreationPlanTests
{
    private static readonly LocalServer Server = new("test");
    private const string Alice = "@alice:test";

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static RoomCreationPlan Plan(CreateRoomRequest request) => RoomCreationPlan.Create(request, Server);

    [Fact]
    public void Initial_state_wins_over_the_preset_and_name_and_topic_win_over_initial_state()
    {
        var plan = Plan(new CreateRoomRequest(Alice)
        {
            Preset = "public_chat",
            Name = "named",
            InitialState =
            [
                new InitialStateEvent(EventTypes.JoinRules, "", Json("""{"join_rule":"invite"}""")),
                new InitialStateEvent("m.room.name", "", Json("""{"name":"ignored"}""")),
            ],
        });

        Assert.Equal([EventTypes.Create, EventTypes.Member, EventTypes.PowerLevels, EventTypes.HistoryVisibility, "m.room.guest_access",
            EventTypes.JoinRules, "m.room.name"], plan.Events.Select(e => e.Type));
        Assert.Equal("invite", plan.Events[5].Content["join_rule"]!.GetValue<string>());
        Assert.Equal("named", plan.Events[6].Content["name"]!.GetValue<string>());
        Assert.Null(plan.Alias);
        Assert.Equal("10", plan.Version.Id);
    }

    [Fact]
    public void Power_levels_from_initial_state_replace_the_defaults_and_the_override_applies_on_top()
    {
        var plan = Plan(new CreateRoomRequest(Alice)
        {
            Preset = "trusted_private_chat",
            Invite = ["@bob:test", "@bob:test"],
            InitialState = [new InitialStateEvent(EventTypes.PowerLevels, "", Json("""{"users":{"@alice:test":90},"ban":10}"""))],
            PowerLevelContentOverride = Json("""{"ban":20}"""),
        });

        var powerLevels = plan.Events.Single(e => e.Type == EventTypes.PowerLevels).Content;
        Assert.Equal(90, powerLevels["users"]!["@bob:test"]!.GetValue<int>());
        Assert.Equal(20, powerLevels["ban"]!.GetValue<int>());
        Assert.Null(powerLevels["kick"]);
        Assert.Single(plan.Events, e => e.Type == EventTypes.PowerLevels);
        Assert.Single(plan.Events, e => e.Type == EventTypes.Member && e.StateKey == "@bob:test");
    }

    [Theory]
    [InlineData("""{"preset":"nope"}""", "M_BAD_JSON")]
    [InlineData("""{"version":"12"}""", "M_UNSUPPORTED_ROOM_VERSION")]
    [InlineData("""{"version":"0"}""", "M_UNSUPPORTED_ROOM_VERSION")]
    [InlineData("""{"version":"org.example.custom"}""", "M_UNSUPPORTED_ROOM_VERSION")]
    [InlineData("""{"alias":"bad:alias"}""", "M_INVALID_PARAM")]
    [InlineData("""{"alias":""}""", "M_INVALID_PARAM")]
    [InlineData("""{"invite":"not-a-user"}""", "M_INVALID_PARAM")]
    [InlineData("""{"invite":"@alice:test"}""", "M_INVALID_PARAM")]
    [InlineData("""{"initial":"m.room.member"}""", "M_INVALID_ROOM_STATE")]
    [InlineData("""{"initial":"m.room.create"}""", "M_INVALID_ROOM_STATE")]
    public void Bad_requests_are_refused_before_anything_is_planned(string shape, string errcode)
    {
        var spec = Json(shape);
        string? Get(string key) => spec.TryGetProperty(key, out var value) ? value.GetString() : null;
        var request = new CreateRoomRequest(Alice)
        {
            Preset = Get("preset"),
            RoomVersion = Get("version"),
            AliasLocalpart = Get("alias"),
            Invite = Get("invite") is { } invitee ? [invitee] : [],
            InitialState = Get("initial") is { } type ? [new InitialStateEvent(type, "@alice:test", Json("{}"))] : [],
        };

        Assert.Equal(errcode, Assert.Throws<MatrixRequestException>(() => Plan(request)).ErrCode);
    }
}
