using System.Collections.Immutable;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Grains.Tests.Federation;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;
using static HomeServer.Grains.Tests.Rooms.Forks.ForkTestEvents;

namespace HomeServer.Grains.Tests.Rooms.Forks;

/// <summary>The batch builder's bookkeeping of forward extremities: linear rooms write none, forks are kept and merged.</summary>
public class ForwardExtremityTests
{
    [Fact]
    public void A_linear_room_cites_its_newest_event_and_writes_no_extremities()
    {
        var builder = PublicRoom();
        var newest = builder.View.LastEventId!;

        var message = builder.Add(Message(Alice, "hello"));

        Assert.Equal([newest.Value], message.PrevEvents);
        Assert.False(builder.View.IsForked);
        Assert.Null(builder.ToBatch().ForwardExtremities);
    }

    [Fact]
    public void A_fork_keeps_both_extremities_and_the_next_local_event_cites_both_and_makes_the_room_linear_again()
    {
        var builder = ForkedRoom(out var local, out var remote);

        Assert.True(builder.View.IsForked);
        Assert.Equal(new[] { local.EventId.Value, remote.EventId.Value }.Order(StringComparer.Ordinal), builder.ExtremityIds.Order(StringComparer.Ordinal));
        Assert.Equal(2, builder.ToBatch().ForwardExtremities!.Count);

        var merge = builder.Add(Message(Alice, "after the fork"));

        Assert.Equal(new[] { local.EventId.Value, remote.EventId.Value }.Order(StringComparer.Ordinal), merge.PrevEvents.Order(StringComparer.Ordinal));
        Assert.Equal(Math.Max(local.Depth(), remote.Depth()) + 1, merge.Depth());
        Assert.False(builder.View.IsForked);
        Assert.Empty(builder.ToBatch().ForwardExtremities!); // The stored extremities are cleared.
    }

    [Fact]
    public void A_plan_made_for_other_extremities_is_stale()
    {
        var builder = PublicRoom();
        var before = builder.View;
        var (remote, plan) = RemoteFork(builder, before);
        builder.Add(Message(Alice, "meanwhile"));

        Assert.Throws<StaleForkException>(() => builder.AddReceivedOnFork(remote, plan));
    }

    [Fact]
    public void A_forked_event_the_state_before_it_forbids_is_refused_and_changes_nothing()
    {
        var builder = PublicRoom();
        var (remote, plan) = RemoteFork(builder, builder.View);
        var mark = builder.ToBatch();
        var empty = plan with { StateBefore = plan.StateBefore.Remove(new StateEventKey(EventTypes.Member, Carol)) };

        var refused = Assert.Throws<MatrixRequestException>(() => builder.AddReceivedOnFork(remote, empty));

        Assert.Equal("M_FORBIDDEN", refused.ErrCode);
        Assert.Equal(mark.Events.Count, builder.Events.Count);
    }

    [Fact]
    public void The_state_resolution_picks_becomes_the_current_state_with_a_change_for_each_slot()
    {
        var builder = PublicRoom();
        var topic = builder.Add(new EventSpec("m.room.topic", "", Alice, new JsonObject { ["topic"] = "old" }));
        var (remote, plan) = RemoteFork(builder, builder.View);
        var resolved = plan.CurrentAfter.Remove(new StateEventKey("m.room.topic", ""));

        builder.AddReceivedOnFork(remote, plan with { CurrentAfter = resolved });

        Assert.Null(builder.State.Get(new StateEventKey("m.room.topic", "")));
        var change = Assert.Single(builder.ToBatch().StateChanges, c => c.EventType == "m.room.topic");
        Assert.Null(change.EventId);
        Assert.Equal(topic.EventId, plan.StateBefore.Get(new StateEventKey("m.room.topic", ""))!.EventId);
    }

    [Fact]
    public void At_most_ten_extremities_are_cited_the_deepest_first()
    {
        var extremities = Enumerable.Range(1, 12)
            .Select(i => new ForwardExtremity(EventId.Parse($"$e{i:D2}:test"), i, null, ImmutableDictionary<StateEventKey, EventId>.Empty))
            .ToList();

        var cited = ForwardExtremity.Cited(extremities);

        Assert.Equal(Enumerable.Range(3, 10).Reverse().Select(i => (long)i), cited.Select(e => e.Depth));
    }

    [Fact]
    public void A_state_map_survives_its_stored_form()
    {
        var state = ImmutableDictionary<StateEventKey, EventId>.Empty
            .Add(new StateEventKey(EventTypes.Create, ""), EventId.Parse("$create:test"))
            .Add(new StateEventKey(EventTypes.Member, Carol), EventId.Parse("$join:test"));

        var read = ForwardExtremity.DeserializeState(ForwardExtremity.SerializeState(state));

        Assert.Equal(state.OrderBy(e => e.Key.StateKey), read.OrderBy(e => e.Key.StateKey));
    }

    /// <summary>A room with a local message and, beside it, a remote message citing the event before it.</summary>
    private static RoomBatchBuilder ForkedRoom(out Pdu local, out Pdu remote)
    {
        var builder = PublicRoom();
        var forkPoint = builder.View;
        local = builder.Add(Message(Alice, "local"));
        var (received, plan) = RemoteFork(builder, forkPoint);
        remote = builder.AddReceivedOnFork(received, plan);
        return builder;
    }
}
