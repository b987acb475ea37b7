using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

public class AuthEventSelectorTests
{
    private static JsonObject Json(string json) => JsonNode.Parse(json)!.AsObject();

    private static readonly StateEventKey AliceMember = StateEventKey.Member(Alice.Value);
    private static readonly StateEventKey CarolMember = StateEventKey.Member(Carol.Value);

    [Fact]
    public void Create_events_cite_nothing() =>
        Assert.Empty(AuthEventSelector.RequiredStateKeys(EventTypes.Create, "", Alice, Json("{}")));

    [Fact]
    public void Other_events_cite_create_power_levels_and_the_senders_membership()
    {
        Assert.Equal([StateEventKey.Create, StateEventKey.PowerLevels, AliceMember],
            AuthEventSelector.RequiredStateKeys("m.room.message", null, Alice, Json("{}")));
        Assert.Equal([StateEventKey.Create, StateEventKey.PowerLevels, AliceMember],
            AuthEventSelector.RequiredStateKeys("m.room.topic", "", Alice, Json("{}")));
    }

    [Theory]
    [InlineData(Membership.Join, true)]
    [InlineData(Membership.Invite, true)]
    [InlineData(Membership.Knock, true)]
    [InlineData(Membership.Leave, false)]
    [InlineData(Membership.Ban, false)]
    public void Member_events_add_the_target_and_for_joins_invites_and_knocks_the_join_rules(string membership, bool joinRules)
    {
        var keys = AuthEventSelector.RequiredStateKeys(EventTypes.Member, Carol.Value, Alice, Json($$"""{ "membership": "{{membership}}" }"""));
        List<StateEventKey> expected = [StateEventKey.Create, StateEventKey.PowerLevels, AliceMember, CarolMember];
        if (joinRules)
            expected.Add(StateEventKey.JoinRules);
        Assert.Equal(expected, keys);
    }

    [Fact]
    public void A_users_own_member_event_is_cited_once()
    {
        var keys = AuthEventSelector.RequiredStateKeys(EventTypes.Member, Alice.Value, Alice, Json("""{ "membership": "join" }"""));
        Assert.Equal([StateEventKey.Create, StateEventKey.PowerLevels, AliceMember, StateEventKey.JoinRules], keys);
    }

    [Fact]
    public void Third_party_invites_cite_the_invite_with_the_token()
    {
        var keys = AuthEventSelector.RequiredStateKeys(EventTypes.Member, Carol.Value, Alice,
            Json("""{ "membership": "invite", "third_party_invite": { "signed": { "token": "abc", "mxid": "@carol:example.org" } } }"""));
        Assert.Contains(new StateEventKey(EventTypes.ThirdPartyInvite, "abc"), keys);
    }

    [Fact]
    public void Authorised_joins_cite_the_authorising_users_membership()
    {
        var keys = AuthEventSelector.RequiredStateKeys(EventTypes.Member, Carol.Value, Carol,
            Json("""{ "membership": "join", "join_authorised_via_users_server": "@bob:example.org" }"""));
        Assert.Equal(StateEventKey.Member(Bob.Value), keys[^1]);
        var invite = AuthEventSelector.RequiredStateKeys(EventTypes.Member, Carol.Value, Alice,
            Json("""{ "membership": "invite", "join_authorised_via_users_server": "@bob:example.org" }"""));
        Assert.DoesNotContain(StateEventKey.Member(Bob.Value), invite);
    }

    [Fact]
    public void Select_returns_the_ids_of_the_cited_events_that_exist()
    {
        var room = Create("11");
        var ids = AuthEventSelector.Select(EventTypes.Member, Carol.Value, Carol, Json("""{ "membership": "join" }"""), room.State);
        Assert.Equal(
            [room.State[StateEventKey.Create].EventId, room.State[StateEventKey.PowerLevels].EventId, room.State[StateEventKey.JoinRules].EventId],
            ids);
    }
}
