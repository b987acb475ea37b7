using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Federation;

/// <summary>
/// The checks on a send_join answer a joining server makes before it keeps a copy of the room: a valid answer gives
/// the state, every event after its auth events, and the join; an answer lacking an auth event, or whose state does
/// not allow the join, is refused.
/// </summary>
public class SendJoinAnswerTests
{
    private const string Carol = "@carol:joining.example";

    [Fact]
    public async Task A_valid_answer_gives_the_state_and_every_event_after_its_auth_events()
    {
        var room = PublicRoom();
        var join = JoinOf(room, Carol);

        var copy = await CheckAsync(room, join, Answer(room.State.Values, AllEvents(room), join));

        Assert.Equal(room.State.Count, copy.State.Count);
        Assert.All(room.State, entry => Assert.Equal(entry.Value.EventId, copy.State[entry.Key].EventId));
        Assert.Equal(join.EventId, copy.Join.EventId);
        var seen = new HashSet<string>();
        foreach (var e in copy.History)
        {
            Assert.All(e.Pdu.AuthEvents, id => Assert.Contains(id, seen));
            seen.Add(e.EventId.Value);
        }
        Assert.Equal(AllEvents(room).Select(e => e.EventId.Value).Order(), seen.Order());
    }

    [Fact]
    public async Task An_answer_without_an_auth_event_it_cites_is_refused()
    {
        var room = PublicRoom();
        var join = JoinOf(room, Carol);
        var creatorJoin = room.State[new StateEventKey(EventTypes.Member, Alice)].EventId;
        var lacking = AllEvents(room).Where(e => e.EventId != creatorJoin).ToList();

        var refused = await Assert.ThrowsAsync<MatrixRequestException>(() => CheckAsync(room, join, Answer(lacking, lacking, join)));

        Assert.Contains($"The auth event {creatorJoin.Value}", refused.Error);
    }

    [Fact]
    public async Task An_answer_whose_state_does_not_allow_the_join_is_refused()
    {
        var room = PublicRoom();
        // Built while the room was public, so its own auth events allow it; the state the answer gives is invite-only.
        var join = JoinOf(room, Carol);
        room.Add(new EventSpec(EventTypes.JoinRules, "", Alice, new JsonObject { ["join_rule"] = "invite" }));

        var refused = await Assert.ThrowsAsync<MatrixRequestException>(() => CheckAsync(room, join, Answer(room.State.Values, AllEvents(room), join)));

        Assert.Contains("The state does not allow the join", refused.Error);
    }

    [Fact]
    public async Task An_answer_with_a_join_other_than_the_one_sent_is_refused()
    {
        var room = PublicRoom();
        var join = JoinOf(room, Carol);
        var other = JoinOf(room, Carol, displayName: "not what was sent");

        var refused = await Assert.ThrowsAsync<MatrixRequestException>(() => CheckAsync(room, join, Answer(room.State.Values, AllEvents(room), other)));

        Assert.Contains("not the join that was sent", refused.Error);
    }

    private static Task<JoinedRoomCopy> CheckAsync(RoomBatchBuilder room, BuiltEvent join, JsonObject answer) =>
        SendJoinAnswer.CheckAsync(room.Version, room.RoomId, join, System.Text.Encoding.UTF8.GetBytes(answer.ToJsonString()), VerifyAsync);

    /// <summary>Every signature the event needs, with the test keys of the servers.</summary>
    private static Task VerifyAsync(RoomVersion version, JsonObject pdu)
    {
        foreach (var server in EventSigning.RequiredSigners(version, pdu)!)
        {
            var key = TestSigningKeys.For(server);
            if (!EventSigning.Verify(version, pdu, server, key.KeyId, key.PublicKey))
                throw MatrixRequestException.InvalidParam($"The signature of {server} on the event does not verify.");
        }
        return Task.CompletedTask;
    }

    private static IReadOnlyList<Pdu> AllEvents(RoomBatchBuilder room) => room.Events.Select(e => e.Pdu).ToList();

    private static JsonObject Answer(IEnumerable<Pdu> state, IEnumerable<Pdu> authChain, BuiltEvent join) => new()
    {
        ["state"] = new JsonArray(state.Select(e => JsonNode.Parse(e.Json.GetRawText())).ToArray()),
        ["auth_chain"] = new JsonArray(authChain.Select(e => JsonNode.Parse(e.Json.GetRawText())).ToArray()),
        ["event"] = JsonNode.Parse(join.Json),
    };

    private static BuiltEvent JoinOf(RoomBatchBuilder room, string userId, string? displayName = null)
    {
        var user = UserId.Parse(userId);
        var content = new JsonObject { ["membership"] = Membership.Join };
        if (displayName is not null) content["displayname"] = displayName;
        var view = room.View;
        return TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = room.Version,
            RoomId = HomeServer.Grains.Identifiers.RoomId.Parse(room.RoomId),
            Sender = user,
            Type = EventTypes.Member,
            StateKey = userId,
            Content = content,
            PrevEvents = [view.LastEventId!],
            AuthEvents = AuthEventSelector.Select(EventTypes.Member, userId, user, content, room.State),
            Depth = view.Depth + 1,
            OriginServerTs = Clock(),
        });
    }
}
