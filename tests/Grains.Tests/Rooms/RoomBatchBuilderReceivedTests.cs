using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Federation;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>Events another server built and signed (a join through send_join) in the room's linear timeline.</summary>
public class RoomBatchBuilderReceivedTests
{
    private const string Carol = "@carol:remote.example";

    [Fact]
    public void A_received_join_that_extends_the_newest_event_is_added_and_the_next_event_follows_it()
    {
        var builder = PublicRoom();

        var join = builder.AddReceived(RemoteJoin(builder, Carol));
        var message = builder.Add(Message(Alice, "welcome"));

        Assert.Equal(Membership.Join, builder.View.MembershipOf(Carol));
        Assert.Equal([join.EventId.Value], message.PrevEvents);
        Assert.Equal(Carol, builder.ToBatch().StateChanges[^1].StateKey);
    }

    [Fact]
    public void A_received_join_that_does_not_follow_the_newest_event_is_refused()
    {
        var builder = PublicRoom();
        var stale = RemoteJoin(builder, Carol);
        builder.Add(Message(Alice, "meanwhile"));

        var refused = Assert.Throws<MatrixRequestException>(() => builder.AddReceived(stale));

        Assert.Equal("M_INVALID_PARAM", refused.ErrCode);
        Assert.Equal(Membership.Leave, builder.View.MembershipOf(Carol));
    }

    [Fact]
    public void A_received_join_with_another_depth_is_refused()
    {
        var builder = PublicRoom();

        var refused = Assert.Throws<MatrixRequestException>(() => builder.AddReceived(RemoteJoin(builder, Carol, depthOffset: 5)));

        Assert.Equal("M_INVALID_PARAM", refused.ErrCode);
    }

    [Fact]
    public void A_received_join_the_current_state_does_not_allow_is_forbidden()
    {
        var builder = PublicRoom();
        builder.Add(EventSpec.Member(Carol, Alice, new JsonObject { ["membership"] = Membership.Ban }));

        var refused = Assert.Throws<MatrixRequestException>(() => builder.AddReceived(RemoteJoin(builder, Carol)));

        Assert.Equal("M_FORBIDDEN", refused.ErrCode);
        Assert.Equal(Membership.Ban, builder.View.MembershipOf(Carol));
    }

    /// <summary>The join as the remote server builds it on the builder's state: signed by its own key.</summary>
    private static BuiltEvent RemoteJoin(RoomBatchBuilder builder, string userId, long depthOffset = 0)
    {
        var user = UserId.Parse(userId);
        var content = new JsonObject { ["membership"] = Membership.Join };
        var view = builder.View;
        return TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = builder.Version,
            RoomId = HomeServer.Grains.Identifiers.RoomId.Parse(builder.RoomId),
            Sender = user,
            Type = EventTypes.Member,
            StateKey = userId,
            Content = content,
            PrevEvents = [view.LastEventId!],
            AuthEvents = AuthEventSelector.Select(EventTypes.Member, userId, user, content, builder.State),
            Depth = view.Depth + 1 + depthOffset,
            OriginServerTs = Clock(),
        });
    }
}
