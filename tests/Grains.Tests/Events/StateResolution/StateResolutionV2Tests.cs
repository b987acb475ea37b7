using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.StateResolution.RoomDag;

namespace HomeServer.Grains.Tests.Events.StateResolution;

/// <summary>
/// The "Room Version 2" algorithm (room versions 2-11). The spec gives no worked examples, so these are the classic
/// conflicts, each resolved in every order of its input state sets (see <see cref="Resolution"/>).
/// </summary>
public class StateResolutionV2Tests
{
    private static readonly StateEventKey Topic = new("m.room.topic", "");
    private static readonly StateEventKey Name = new("m.room.name", "");

    [Theory]
    [InlineData("2")]
    [InlineData("3")]
    [InlineData("10")]
    [InlineData("11")]
    public void Unconflicted_state_passes_through_and_one_sided_slots_are_checked(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50), (Carol, 0));
        var rootTopic = root.Topic(Bob, "from before the split");
        var a = root.Branch();
        var b = root.Branch();
        var name = a.Send(Alice, "m.room.name", "", """{ "name": "A" }""");
        var demotion = b.SetPowerLevels(Alice, (Alice, 100), (Bob, 0), (Carol, 0));

        var resolved = Resolution.OfForks(dag, a, b);

        // Every slot both sides agree on is in the result, even Bob's topic, which his new level (0) no longer
        // allows: unconflicted state is never checked again.
        foreach (var (key, id) in root.StateIds.Where(entry => entry.Key != StateEventKey.PowerLevels))
            Assert.Equal(id, resolved.Slot(key));
        Assert.Equal(rootTopic.EventId, resolved.Slot(Topic));
        // The name only one side holds is conflicted (not in every set), checked, and allowed.
        Assert.Equal(name.EventId, resolved.Slot(Name));
        Assert.Equal(demotion.EventId, resolved.Slot(StateEventKey.PowerLevels));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("10")]
    [InlineData("11")]
    public void A_demotion_beats_a_ban_by_the_demoted_moderator_in_a_parallel_branch(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        var demotion = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 0), (Carol, 0));
        var ban = b.Membership(Bob, Carol, Membership.Ban);
        var carolJoin = root.State[StateEventKey.Member(Carol.Value)];

        var resolved = Resolution.OfForks(dag, a, b);

        // Both are power events. Alice's (100) sorts before Bob's (50, by the power levels his ban cites), so the
        // demotion is applied first, and then Bob (now 0) may no longer ban: Carol stays joined.
        Assert.Equal(demotion.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(carolJoin.EventId, resolved.Member(Carol));
        Assert.NotEqual(ban.EventId, resolved.Member(Carol));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("11")]
    public void A_ban_stands_when_nothing_in_the_other_branch_takes_the_power_away(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        a.Send(Alice, "m.room.name", "", """{ "name": "A" }""");
        var ban = b.Membership(Bob, Carol, Membership.Ban);

        var resolved = Resolution.OfForks(dag, a, b);

        Assert.Equal(ban.EventId, resolved.Member(Carol));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("10")]
    [InlineData("11")]
    public void Concurrent_topics_on_the_same_mainline_are_ordered_by_timestamp(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        var later = a.Topic(Alice, "later", originServerTs: 50_000);
        var earlier = b.Topic(Bob, "earlier", originServerTs: 40_000);

        var resolved = Resolution.OfForks(dag, a, b);

        // Both cite the same power levels (mainline position 0), so the earlier one is checked first and the later
        // one, checked last, overwrites it: power does not matter outside the power events.
        Assert.Equal(later.EventId, resolved.Slot(Topic));
        Assert.NotEqual(earlier.EventId, resolved.Slot(Topic));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Concurrent_topics_with_the_same_timestamp_are_ordered_by_event_id(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        var fromAlice = a.Topic(Alice, "alice", originServerTs: 50_000);
        var fromBob = b.Topic(Bob, "bob", originServerTs: 50_000);

        var resolved = Resolution.OfForks(dag, a, b);

        var greaterId = string.CompareOrdinal(fromAlice.EventId.Value, fromBob.EventId.Value) > 0 ? fromAlice : fromBob;
        Assert.Equal(greaterId.EventId, resolved.Slot(Topic));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("10")]
    [InlineData("11")]
    public void A_topic_citing_a_later_power_levels_event_on_the_mainline_wins_over_a_later_timestamp(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        var promotion = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 50), (Carol, 50));
        var carolsTopic = a.Topic(Carol, "cites the promotion", originServerTs: 20_000);
        var bobsTopic = b.Topic(Bob, "cites the first power levels", originServerTs: 90_000);

        var resolved = Resolution.OfForks(dag, a, b);

        // The resolved power levels are the promotion, so the mainline is [promotion, first power levels]. Bob's
        // topic meets it at position 1, Carol's at 0; greater positions come first, so Carol's is checked last and
        // wins although Bob's was sent 70 seconds later.
        Assert.Equal(promotion.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(carolsTopic.EventId, resolved.Slot(Topic));
        Assert.NotEqual(bobsTopic.EventId, resolved.Slot(Topic));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("10")]
    [InlineData("11")]
    public void A_join_rules_change_to_invite_drops_a_concurrent_uninvited_join(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        var inviteOnly = a.Send(Alice, EventTypes.JoinRules, "", """{ "join_rule": "invite" }""");
        b.Membership(Dave, Dave, Membership.Join);

        var resolved = Resolution.OfForks(dag, a, b);

        // The join rules change is a power event and is applied first; Dave's join, checked after it against a room
        // that is now invite-only, fails, and his slot (held by one side only) stays empty.
        Assert.Equal(inviteOnly.EventId, resolved.Slot(StateEventKey.JoinRules));
        Assert.Null(resolved.Member(Dave));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("10")]
    [InlineData("11")]
    public void An_event_that_fails_auth_against_the_resolved_state_is_dropped(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        a.SetPowerLevels(Alice, (Alice, 100), (Bob, 0));
        var name = b.Send(Bob, "m.room.name", "", """{ "name": "Bob's room" }""");

        var resolved = Resolution.OfForks(dag, a, b);

        // Allowed in its own branch (Bob was a moderator), but not once the demotion is applied.
        Assert.Null(resolved.Slot(Name));
        Assert.DoesNotContain(name.EventId, resolved.Values);
    }

    /// <summary>
    /// A partition between two servers, each with an admin (Alice on a.example, Erin on b.example, both 100).
    /// On side A Alice promotes Bob to 90 and Bob bans Carol; on side B Erin promotes Carol to 90 and Carol bans Bob.
    /// Each side's events are valid where they were made.
    /// </summary>
    /// <remarks>
    /// Why the answer is what it is: all four events are power events. In the reverse topological power ordering
    /// both power levels events come first (their senders have 100, the bans' senders 90 by the power levels each
    /// ban cites, and each ban depends on its side's power levels event); the two equal-power changes are ordered by
    /// origin_server_ts. Each was built from the room's first power levels, so each also resets the other side's
    /// promotion, and both pass the rules on top of each other (an admin at 100 may lower a 90). So the power
    /// levels event with the LATER timestamp is the resolved one. Then the bans are checked under it: the side whose
    /// admin changed power levels last has its moderator at 90 and the other at 50, so its ban passes and the other
    /// ban fails (a 50 cannot ban a 90). Swapping only the timestamps swaps the winner; the order of the inputs never
    /// matters.
    /// </remarks>
    [Theory]
    [InlineData("2", true)]
    [InlineData("2", false)]
    [InlineData("10", true)]
    [InlineData("10", false)]
    [InlineData("11", true)]
    [InlineData("11", false)]
    public void A_partition_where_both_sides_change_power_levels_and_ban_each_other(string version, bool sideBChangesLast)
    {
        var (dag, root) = CreateRoom(version, (Erin, 100), (Bob, 50), (Carol, 50));
        var a = root.Branch();
        var b = root.Branch();
        var (tsA, tsB) = sideBChangesLast ? (30_000L, 31_000L) : (31_000L, 30_000L);
        var promoteBob = a.Send(Alice, EventTypes.PowerLevels, "",
            PowerLevelsContent(new Dictionary<UserId, int> { [Alice] = 100, [Erin] = 100, [Bob] = 90, [Carol] = 50 }), tsA);
        var bobBansCarol = a.Membership(Bob, Carol, Membership.Ban);
        var promoteCarol = b.Send(Erin, EventTypes.PowerLevels, "",
            PowerLevelsContent(new Dictionary<UserId, int> { [Alice] = 100, [Erin] = 100, [Bob] = 50, [Carol] = 90 }), tsB);
        var carolBansBob = b.Membership(Carol, Bob, Membership.Ban);

        var resolved = Resolution.OfForks(dag, a, b);

        if (sideBChangesLast)
        {
            Assert.Equal(promoteCarol.EventId, resolved.Slot(StateEventKey.PowerLevels));
            Assert.Equal(carolBansBob.EventId, resolved.Member(Bob));
            Assert.Equal(root.State[StateEventKey.Member(Carol.Value)].EventId, resolved.Member(Carol));
        }
        else
        {
            Assert.Equal(promoteBob.EventId, resolved.Slot(StateEventKey.PowerLevels));
            Assert.Equal(bobBansCarol.EventId, resolved.Member(Carol));
            Assert.Equal(root.State[StateEventKey.Member(Bob.Value)].EventId, resolved.Member(Bob));
        }
    }

    /// <summary>
    /// The same partition seen by three servers: a third side (c.example) missed both and still has the room's
    /// state from before. Whatever order the three states come in, the outcome is the two-sided one.
    /// </summary>
    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Three_sides_resolve_to_the_same_state_in_every_order(string version)
    {
        var (dag, root) = CreateRoom(version, (Erin, 100), (Bob, 50), (Carol, 50));
        var a = root.Branch();
        var b = root.Branch();
        var c = root.Branch();
        a.Send(Alice, EventTypes.PowerLevels, "",
            PowerLevelsContent(new Dictionary<UserId, int> { [Alice] = 100, [Erin] = 100, [Bob] = 90, [Carol] = 50 }), 30_000);
        a.Membership(Bob, Carol, Membership.Ban);
        var promoteCarol = b.Send(Erin, EventTypes.PowerLevels, "",
            PowerLevelsContent(new Dictionary<UserId, int> { [Alice] = 100, [Erin] = 100, [Bob] = 50, [Carol] = 90 }), 31_000);
        var carolBansBob = b.Membership(Carol, Bob, Membership.Ban);
        var topic = c.Topic(Carol, "side C", originServerTs: 32_000);

        var resolved = Resolution.OfForks(dag, a, b, c);

        Assert.Equal(promoteCarol.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(carolBansBob.EventId, resolved.Member(Bob));
        // Carol (90 under the resolved power levels) may still set the topic she set on side C.
        Assert.Equal(topic.EventId, resolved.Slot(Topic));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("11")]
    public void The_unconflicted_state_is_reapplied_over_older_events_of_the_auth_difference(string version)
    {
        var (dag, root) = CreateRoom(version);
        var beforeChange = root.Branch();
        var inviteOnly = root.Send(Alice, EventTypes.JoinRules, "", """{ "join_rule": "invite" }""");
        // Side A also holds Dave's join, made concurrently with the change, citing the first (public) join rules.
        var davesJoin = beforeChange.Membership(Dave, Dave, Membership.Join);
        var sideA = new Dictionary<StateEventKey, EventId>(root.StateIds) { [StateEventKey.Member(Dave.Value)] = davesJoin.EventId };
        var sideB = root.StateIds;
        var publicRule = beforeChange.State[StateEventKey.JoinRules];

        var resolved = Resolution.OfSets(dag.Version, dag.Events, sideA, sideB);

        // The first join rules event is only in side A's auth chain, so it is in the auth difference: a power event,
        // applied in step 2 (which lets Dave's join pass), and finally replaced by the unconflicted invite rule.
        Assert.Contains(publicRule.EventId, StateResolutionV2.AuthDifference([sideA, sideB], new AuthChains(dag.Events)));
        Assert.Equal(inviteOnly.EventId, resolved.Slot(StateEventKey.JoinRules));
        Assert.Equal(davesJoin.EventId, resolved.Member(Dave));
    }

    [Fact]
    public void The_auth_difference_counts_each_sets_own_events_as_part_of_its_chain()
    {
        var (dag, root) = CreateRoom("11", (Bob, 50));
        var raised = root.SetPowerLevels(Alice, (Alice, 100), (Bob, 60));
        var a = root.Branch();
        a.Topic(Bob, "cites the raised power levels");

        // Only side A's topic cites `raised`, but both sides hold it: it is in every set's full chain.
        var difference = StateResolutionV2.AuthDifference([a.StateIds, root.StateIds], new AuthChains(dag.Events));

        Assert.DoesNotContain(raised.EventId, difference);
        Assert.Contains(a.State[Topic].EventId, difference);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("11")]
    public void A_backdated_ban_does_not_get_ahead_of_a_higher_powered_demotion(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        var demotion = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 0), (Carol, 0));
        b.Send(Bob, EventTypes.Member, Carol.Value, """{ "membership": "ban" }""", originServerTs: 1);

        var resolved = Resolution.OfForks(dag, a, b);

        // Sender power comes before timestamps in the reverse topological power ordering, so a timestamp of 1 ms
        // after the epoch still leaves Bob's ban (50) after Alice's demotion (100), which then refuses it.
        Assert.Equal(demotion.EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(root.State[StateEventKey.Member(Carol.Value)].EventId, resolved.Member(Carol));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("11")]
    public void Power_a_side_granted_itself_without_having_it_is_refused(string version)
    {
        var (dag, root) = CreateRoom(version, (Bob, 50), (Carol, 0));
        var a = root.Branch();
        var b = root.Branch();
        a.Topic(Alice, "a");
        // Bob's server makes him an admin, which the rules refuse (a moderator cannot raise himself above 50), and
        // then has him ban Alice, which its own auth events (citing the forged power levels) would allow. Resolution
        // checks both again instead of trusting the branch: the self-promotion fails, and under the first power
        // levels Bob (50) cannot ban Alice (100).
        var selfPromotion = b.Forge(Bob, EventTypes.PowerLevels, "",
            PowerLevelsContent(new Dictionary<UserId, int> { [Alice] = 0, [Bob] = 100 }));
        Assert.False(EventAuthorizer.Authorize(dag.Version, selfPromotion, root.State).IsAllowed);
        var banOfAlice = b.Forge(Bob, EventTypes.Member, Alice.Value, """{ "membership": "ban" }""");

        var resolved = Resolution.OfForks(dag, a, b);

        Assert.Equal(root.State[StateEventKey.PowerLevels].EventId, resolved.Slot(StateEventKey.PowerLevels));
        Assert.Equal(root.State[StateEventKey.Member(Alice.Value)].EventId, resolved.Member(Alice));
        Assert.DoesNotContain(selfPromotion.EventId, resolved.Values);
        Assert.DoesNotContain(banOfAlice.EventId, resolved.Values);
    }

    [Fact]
    public void A_kick_is_a_power_event_and_a_leave_is_not()
    {
        var (_, root) = CreateRoom("11", (Bob, 50), (Carol, 0), (Dave, 0));
        var a = root.Branch();
        var kick = a.Membership(Bob, Carol, Membership.Leave);
        var leave = a.Membership(Dave, Dave, Membership.Leave);

        Assert.True(StateResolutionV2.IsPowerEvent(kick));
        Assert.False(StateResolutionV2.IsPowerEvent(leave));
        Assert.True(StateResolutionV2.IsPowerEvent(root.State[StateEventKey.PowerLevels]));
        Assert.True(StateResolutionV2.IsPowerEvent(root.State[StateEventKey.JoinRules]));
        Assert.False(StateResolutionV2.IsPowerEvent(root.State[StateEventKey.Member(Bob.Value)]));
    }

    [Fact]
    public void A_conflicted_event_the_source_does_not_have_is_ignored_and_an_unconflicted_one_is_kept()
    {
        var (dag, root) = CreateRoom("11", (Bob, 50));
        var unknownButAgreed = root.Send(Alice, "m.room.name", "", """{ "name": "agreed" }""", addToSource: false);
        var a = root.Branch();
        var b = root.Branch();
        var known = a.Topic(Alice, "known", originServerTs: 40_000);
        var unknown = b.Send(Bob, "m.room.topic", "", """{ "topic": "unknown" }""", originServerTs: 50_000, addToSource: false);

        var resolved = Resolution.OfForks(dag, a, b);

        Assert.Equal(known.EventId, resolved.Slot(Topic));
        Assert.DoesNotContain(unknown.EventId, resolved.Values);
        Assert.Equal(unknownButAgreed.EventId, resolved.Slot(Name));
    }

    [Fact]
    public void Missing_auth_events_end_the_walk_without_failing()
    {
        var (dag, root) = CreateRoom("11", (Bob, 50));
        var a = root.Branch();
        var b = root.Branch();
        var topicA = a.Topic(Alice, "a", originServerTs: 40_000);
        b.Topic(Bob, "b", originServerTs: 30_000);
        // A source that lost the room's first events: the auth chains stop at the first gap.
        var partial = new InMemoryEventSource(root.State.Values.Where(pdu => pdu.Type != EventTypes.Create).Append(topicA));

        var resolved = Resolution.OfSets(dag.Version, partial, a.StateIds, b.StateIds);

        // Bob's topic is unknown to this source and ignored; Alice's still needs the create event to pass the
        // rules, and that is unconflicted but missing, so no topic survives.
        Assert.Null(resolved.Slot(Topic));
        Assert.Equal(root.State[StateEventKey.Create].EventId, resolved.Slot(StateEventKey.Create));
    }

    [Fact]
    public void The_iterative_auth_checks_fall_back_on_an_auth_event_only_when_it_was_not_rejected()
    {
        var (dag, root) = CreateRoom("11", (Bob, 50));
        var withBob = root.Branch();
        var topic = withBob.Topic(Bob, "needs Bob's membership");
        var bobsJoin = root.State[StateEventKey.Member(Bob.Value)];
        var stateWithoutBob = root.State.Where(entry => entry.Key != StateEventKey.Member(Bob.Value))
            .ToDictionary(entry => entry.Key, entry => entry.Value);

        var accepted = new Dictionary<StateEventKey, Pdu>(stateWithoutBob);
        IterativeAuthChecks.Apply(dag.Version, accepted, [topic], dag.Events);
        Assert.Equal(topic, accepted.GetValueOrDefault(Topic));

        dag.Events.Add(bobsJoin, isRejected: true);
        var refused = new Dictionary<StateEventKey, Pdu>(stateWithoutBob);
        IterativeAuthChecks.Apply(dag.Version, refused, [topic], dag.Events);
        Assert.False(refused.ContainsKey(Topic));
    }

    [Fact]
    public void The_reverse_topological_power_ordering_puts_auth_events_first_then_higher_power_then_earlier()
    {
        var (dag, root) = CreateRoom("11", (Bob, 50), (Carol, 0), (Dave, 0));
        var a = root.Branch();
        var bobKicksDave = a.Membership(Bob, Dave, Membership.Leave);
        var demoteBob = root.Branch().SetPowerLevels(Alice, (Alice, 100), (Bob, 10));
        var promoteCarol = a.SetPowerLevels(Alice, (Alice, 100), (Bob, 50), (Carol, 50));
        var carolBansDave = a.Membership(Carol, Dave, Membership.Ban);

        var sorted = ReverseTopologicalPowerOrdering.Sort(dag.Version, [carolBansDave, promoteCarol, demoteBob, bobKicksDave], dag.Events);

        // Nothing of the set is among the first three's auth events, so they are ordered by power: Alice's two
        // changes (100, by timestamp among themselves) before Bob's kick (50), although the kick is the oldest.
        // Carol's ban cites Alice's promotion and Bob's kick (Dave's membership), so it waits for both.
        Assert.Equal([demoteBob.EventId, promoteCarol.EventId, bobKicksDave.EventId, carolBansDave.EventId],
            sorted.Select(pdu => pdu.EventId).ToList());
    }
}
