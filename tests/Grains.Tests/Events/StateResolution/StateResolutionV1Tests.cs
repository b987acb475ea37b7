using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.StateResolution.RoomDag;

namespace HomeServer.Grains.Tests.Events.StateResolution;

/// <summary>The original algorithm of room version 1: conflicts by slot, in passes, ordered by depth.</summary>
public class StateResolutionV1Tests
{
    private static readonly StateEventKey Topic = new("m.room.topic", "");
    private static readonly StateEventKey Name = new("m.room.name", "");

    [Fact]
    public void A_slot_only_one_side_holds_is_not_a_conflict_and_is_kept_unchecked()
    {
        var (dag, root) = CreateRoom("1", (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        var demotion = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 0));
        var name = b.Send(Bob, "m.room.name", "", """{ "name": "Bob's room" }""");

        var resolved = Resolution.OfForks(dag, a, b);

        // Unlike v2, a conflict in v1 is two different events for one slot; Bob's name has no rival, so it stays
        // although the resolved power levels no longer allow it (one of v1's known flaws).
        Assert.Equal(demotion.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(name.EventId, resolved.Slot(Name));
    }

    [Fact]
    public void Power_levels_conflicts_take_the_deepest_chain_of_allowed_changes()
    {
        var (dag, root) = CreateRoom("1", (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        var first = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 50), (Carol, 20));
        var second = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 50), (Carol, 30));
        b.Topic(Alice, "b");

        var resolved = Resolution.OfForks(dag, a, b);

        // The conflict is between the room's first power levels (side B) and `second` (side A), sorted by ascending
        // depth: the first is taken, and `second` is allowed on top of it.
        Assert.NotEqual(first.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(second.EventId, resolved.Slot(StateEventKey.PowerLevels));
    }

    [Fact]
    public void A_power_levels_change_that_the_rules_refuse_after_the_first_ends_the_pass()
    {
        var (dag, root) = CreateRoom("1", (Bob, 50), (Carol, 0));
        // Moderators may change power levels in this room.
        static string Levels(int bob, int carol) =>
            $$"""{ "ban": 50, "state_default": 50, "events": { "m.room.power_levels": 50 }, "users": { "{{Alice}}": 100, "{{Bob}}": {{bob}}, "{{Carol}}": {{carol}} } }""";
        root.Send(Alice, EventTypes.PowerLevels, "", Levels(bob: 50, carol: 0));
        var a = root.Branch();
        var b = root.Branch();
        // Side A: Alice demotes Bob. Side B, two events deeper: Bob makes Carol a moderator, which Alice's change
        // (taken first, being shallower) makes impossible, since Bob then has 0.
        var aliceDemotesBob = a.Send(Alice, EventTypes.PowerLevels, "", Levels(bob: 0, carol: 0));
        b.Topic(Bob, "one");
        b.Topic(Bob, "two");
        var bobPromotesCarol = b.Send(Bob, EventTypes.PowerLevels, "", Levels(bob: 50, carol: 50));

        var resolved = Resolution.OfForks(dag, a, b);

        Assert.Equal(aliceDemotesBob.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.NotEqual(bobPromotesCarol.EventId, resolved.Slot(StateEventKey.PowerLevels));
    }

    [Fact]
    public void Other_conflicts_take_the_deepest_event_the_rules_allow()
    {
        var (dag, root) = CreateRoom("1", (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        var demotion = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 0));
        var alicesTopic = a.Topic(Alice, "Alice's");
        b.Topic(Bob, "Bob's first");
        b.Topic(Bob, "Bob's second");
        var bobsDeepestTopic = b.Topic(Bob, "Bob's third");

        var resolved = Resolution.OfForks(dag, a, b);

        // Bob's topic is deeper, but once the demotion is resolved he has 0 and may not set it; Alice's is next.
        Assert.Equal(demotion.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(alicesTopic.EventId, resolved.Slot(Topic));
        Assert.NotEqual(bobsDeepestTopic.EventId, resolved.Slot(Topic));
    }

    [Fact]
    public void Among_allowed_events_the_deepest_wins_whatever_the_timestamps()
    {
        var (dag, root) = CreateRoom("1", (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        a.Topic(Alice, "shallow but late", originServerTs: 90_000);
        b.Send(Bob, "m.room.name", "", """{ "name": "n" }""", originServerTs: 20_000);
        var deep = b.Topic(Bob, "deep but early", originServerTs: 20_010);

        var resolved = Resolution.OfForks(dag, a, b);

        Assert.Equal(deep.EventId, resolved.Slot(Topic));
    }

    [Fact]
    public void A_ban_resolves_over_the_join_it_replaces()
    {
        var (dag, root) = CreateRoom("1", (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        a.Topic(Alice, "a");
        var ban = b.Membership(Bob, Carol, Membership.Ban);

        var resolved = Resolution.OfForks(dag, a, b);

        Assert.Equal(ban.EventId, resolved.Member(Carol));
    }
}
