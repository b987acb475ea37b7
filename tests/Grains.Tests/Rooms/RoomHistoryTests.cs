using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Rooms;

public class RoomHistoryTests
{
    private const string Alice = "@alice:test";
    private const string Bob = "@bob:test";

    private static StoredEvent Member(long position, string userId, string membership) =>
        new("!r:test", position, position, $"$m{position}", EventTypes.Member, userId, userId, 0, membership, false, "{}"u8.ToArray());

    private static StoredEvent Visibility(long position, string value) =>
        new("!r:test", position, position, $"$v{position}", EventTypes.HistoryVisibility, "", Alice, 0, null, false,
            System.Text.Encoding.UTF8.GetBytes($"{{\"content\":{{\"history_visibility\":\"{value}\"}}}}"));

    private static StoredEvent Message(long position) =>
        new("!r:test", position, position, $"$e{position}", "m.room.message", null, Alice, 0, null, false, "{}"u8.ToArray());

    private static bool CanSee(RoomHistory history, string userId, bool joinedNow, StoredEvent e) =>
        history.CanSee(userId, joinedNow, e.RoomPosition, e.Type, e.StateKey);

    [Fact]
    public void Backfilled_history_before_the_log_is_judged_by_its_own_visibility_and_memberships()
    {
        // The log of a room joined over federation: the copy's state (visibility 'joined' now), then Bob's join.
        var log = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "joined"), Member(3, Bob, "join"), Message(4)]);
        // Backfilled below it: the room was 'shared' while Alice talked, then 'joined', then Bob was invited.
        StoredEvent[] backfilled = [Member(-7, Alice, "join"), Message(-6), Visibility(-5, "joined"), Message(-4), Member(-3, Bob, "invite"), Message(-2), Visibility(-1, "joined")];

        var complete = log.WithEarlierHistory(backfilled, visibilityBefore: null);
        Assert.True(CanSee(complete, Bob, joinedNow: true, Message(-6)));
        Assert.False(CanSee(complete, Bob, joinedNow: true, Message(-4)));
        Assert.False(CanSee(complete, Bob, joinedNow: true, Message(-2)));
        Assert.True(CanSee(complete, Bob, joinedNow: true, Message(4)));
        Assert.True(CanSee(complete, Alice, joinedNow: true, Message(-4)));

        // What lies before the oldest backfilled visibility change is judged by the visibility given for it.
        var partial = log.WithEarlierHistory(backfilled.Skip(1).Where(e => e.RoomPosition != -5), HistoryVisibilities.Joined);
        Assert.False(CanSee(partial, Bob, joinedNow: true, Message(-6)));
        Assert.False(CanSee(partial, Bob, joinedNow: true, Message(-4)));
        var shared = log.WithEarlierHistory(backfilled.Where(e => e.Type != EventTypes.HistoryVisibility), HistoryVisibilities.Shared);
        Assert.True(CanSee(shared, Bob, joinedNow: true, Message(-4)));
        Assert.False(CanSee(shared, "@carol:test", joinedNow: false, Message(-4)));
        Assert.Equal(4, partial.UpToPosition);
    }

    [Fact]
    public void Shared_history_is_visible_to_anyone_who_joined_after_it_but_not_past_their_leave()
    {
        var early = Message(2);
        var during = Message(4);
        var afterLeaving = Message(6);
        var history = RoomHistory.Empty.Extend([Member(1, Alice, "join"), early, Member(3, Bob, "join"), during, Member(5, Bob, "leave"), afterLeaving]);

        Assert.True(CanSee(history, Bob, joinedNow: true, early));
        // The spec: shared history is visible when "the user joined the room at any point after the event was sent".
        Assert.True(CanSee(history, Bob, joinedNow: false, early));
        Assert.False(CanSee(history, "@carol:test", joinedNow: false, early));
        Assert.True(CanSee(history, Bob, joinedNow: false, during));
        Assert.False(CanSee(history, Bob, joinedNow: false, afterLeaving));
        Assert.True(CanSee(history, Bob, joinedNow: false, Member(5, Bob, "leave")));
        Assert.True(history.WasEverJoined(Bob));
        Assert.Equal(6, history.UpToPosition);
    }

    [Fact]
    public void Joined_history_hides_what_came_before_the_join_and_invited_history_shows_it_from_the_invite()
    {
        var joinedOnly = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "joined"), Message(3), Member(4, Bob, "invite"),
            Message(5), Member(6, Bob, "join"), Message(7)]);
        Assert.False(CanSee(joinedOnly, Bob, true, Message(3)));
        Assert.False(CanSee(joinedOnly, Bob, true, Message(5)));
        Assert.True(CanSee(joinedOnly, Bob, true, Message(7)));

        var invited = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "invited"), Message(3), Member(4, Bob, "invite"),
            Message(5), Member(6, Bob, "join")]);
        Assert.False(CanSee(invited, Bob, true, Message(3)));
        Assert.True(CanSee(invited, Bob, true, Message(5)));
    }

    [Fact]
    public void World_readable_history_is_visible_to_anyone_and_a_visibility_change_uses_the_more_permissive_value()
    {
        var history = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "world_readable"), Message(3), Visibility(4, "joined"), Message(5)]);

        Assert.True(CanSee(history, Bob, false, Message(3)));
        Assert.True(CanSee(history, Bob, false, Visibility(4, "joined")));
        Assert.False(CanSee(history, Bob, false, Message(5)));
        Assert.False(history.WasEverJoined(Bob));
    }

    [Fact]
    public void Extending_skips_events_already_covered_and_unknown_visibility_counts_as_joined()
    {
        var history = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "whatever"), Message(3)]);
        var extended = history.Extend([Message(3), Member(4, Bob, "join")]);

        Assert.False(CanSee(history, Bob, true, Message(3)));
        Assert.Equal([new HistoryChange(4, "join")], extended.MembershipChanges(Bob));
        Assert.Single(extended.MembershipChanges(Alice));
        Assert.Equal(3, history.UpToPosition);
    }

    [Fact]
    public void Own_member_events_are_judged_by_the_membership_before_or_after_them()
    {
        var history = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "joined"), Member(3, Bob, "invite"),
            Member(4, Bob, "join"), Member(5, Bob, "leave"), Member(6, Bob, "invite")]);

        Assert.False(CanSee(history, Bob, false, Member(3, Bob, "invite")));
        Assert.True(CanSee(history, Bob, false, Member(4, Bob, "join")));
        Assert.True(CanSee(history, Bob, false, Member(5, Bob, "leave")));
        Assert.False(CanSee(history, Bob, false, Member(6, Bob, "invite")));

        var invited = RoomHistory.Empty.Extend([Member(1, Alice, "join"), Visibility(2, "invited"), Member(3, Bob, "invite")]);
        Assert.True(CanSee(invited, Bob, false, Member(3, Bob, "invite")));
    }
}
