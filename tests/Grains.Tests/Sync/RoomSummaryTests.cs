using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Sync;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Sync;

/// <summary>The room summary computed from a room's current state (the store path; the snapshot path shares the rule).</summary>
public class RoomSummaryTests
{
    private const string RoomId = "!room:test";
    private const string Alice = "@alice:test";
    private const string Bob = "@bob:test";
    private const string Carol = "@carol:test";
    private const string Dave = "@dave:test";

    private static int _position;

    private static StoredEvent State(string type, string stateKey, JsonObject content, string? membership = null)
    {
        var position = Interlocked.Increment(ref _position);
        var json = new JsonObject { ["type"] = type, ["state_key"] = stateKey, ["sender"] = Alice, ["content"] = content };
        return new StoredEvent(RoomId, position, position, $"$e{position}", type, stateKey, Alice, 0, membership, false,
            Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    private static StoredEvent Member(string userId, string membership) =>
        State("m.room.member", userId, new JsonObject { ["membership"] = membership }, membership);

    private static List<StoredEvent> Members() =>
        [Member(Alice, "join"), Member(Bob, "join"), Member(Carol, "invite"), Member(Dave, "leave")];

    [Fact]
    public void An_unnamed_room_has_heroes_in_stream_order_without_the_user_and_counts_of_joined_and_invited()
    {
        var summary = RoomStateReader.Summarize(Members(), Bob);

        Assert.Equal([Alice, Carol], summary.Heroes);
        Assert.Equal((2, 1), (summary.JoinedMemberCount, summary.InvitedMemberCount));
    }

    [Theory]
    [InlineData("m.room.name", "name", "Plans")]
    [InlineData("m.room.canonical_alias", "alias", "#plans:test")]
    public void A_room_with_a_name_or_canonical_alias_has_counts_but_no_heroes(string type, string property, string value)
    {
        var state = Members().Append(State(type, "", new JsonObject { [property] = value })).ToList();

        var summary = RoomStateReader.Summarize(state, Bob);

        Assert.Null(summary.Heroes);
        Assert.Equal((2, 1), (summary.JoinedMemberCount, summary.InvitedMemberCount));
    }

    [Fact]
    public void An_empty_name_or_alias_names_nothing_and_when_only_departed_members_are_left_they_are_the_heroes()
    {
        var state = new List<StoredEvent>
        {
            Member(Alice, "leave"), Member(Bob, "join"), Member(Carol, "ban"),
            State("m.room.name", "", new JsonObject { ["name"] = "" }),
            State("m.room.canonical_alias", "", new JsonObject { ["alt_aliases"] = new JsonArray("#other:test") }),
        };

        var summary = RoomStateReader.Summarize(state, Bob);

        Assert.Equal([Alice, Carol], summary.Heroes);
        Assert.Equal((1, 0), (summary.JoinedMemberCount, summary.InvitedMemberCount));
    }
}
