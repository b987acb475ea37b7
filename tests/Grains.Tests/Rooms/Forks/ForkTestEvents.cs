using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Grains.Tests.Federation;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms.Forks;

/// <summary>A remote user's message forking a room built with the batch builder, with the plan the room would make for it.</summary>
internal static class ForkTestEvents
{
    public const string Carol = "@carol:remote.example";

    /// <summary>Carol (joined by Alice's room's rules) writes a message on <paramref name="forkPoint"/>'s newest event.</summary>
    public static (BuiltEvent Event, ForkPlan Plan) RemoteFork(RoomBatchBuilder builder, RoomSnapshot forkPoint)
    {
        var carol = UserId.Parse(Carol);
        // Carol's join is part of the state the fork is planned on (as if it were in the room before the fork point).
        var stateBefore = forkPoint.State.SetItem(new StateEventKey(EventTypes.Member, Carol), JoinOf(builder, carol));
        var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = "remote" };
        var built = TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = builder.Version,
            RoomId = HomeServer.Grains.Identifiers.RoomId.Parse(builder.RoomId),
            Sender = carol,
            Type = "m.room.message",
            Content = content,
            PrevEvents = [forkPoint.LastEventId!],
            AuthEvents = AuthEventSelector.Select("m.room.message", null, carol, content, stateBefore),
            Depth = forkPoint.Depth + 1,
            OriginServerTs = Clock(),
        });
        var view = builder.View;
        var extremities = view.IsForked
            ? view.Extremities
            : [new ForwardExtremity(view.LastEventId!, view.Depth, view.LastEventContentHash, ForwardExtremity.IdsOf(view.State))];
        var plan = new ForkPlan(builder.ExtremityIds.ToHashSet(), stateBefore, ForwardExtremity.IdsOf(stateBefore),
            view.State, extremities.Add(ForwardExtremity.Of(built.Pdu, ForwardExtremity.IdsOf(stateBefore))), []);
        return (built, plan);
    }

    private static Pdu JoinOf(RoomBatchBuilder builder, UserId user)
    {
        var content = new JsonObject { ["membership"] = Membership.Join };
        return TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = builder.Version,
            RoomId = HomeServer.Grains.Identifiers.RoomId.Parse(builder.RoomId),
            Sender = user,
            Type = EventTypes.Member,
            StateKey = user.ToString(),
            Content = content,
            PrevEvents = [builder.View.LastEventId!],
            AuthEvents = AuthEventSelector.Select(EventTypes.Member, user.ToString(), user, content, builder.State),
            Depth = builder.View.Depth + 1,
            OriginServerTs = Clock(),
        }).Pdu;
    }
}
