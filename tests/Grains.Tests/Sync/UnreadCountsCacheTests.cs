using HomeServer.Grains.Sync;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Sync;

/// <summary>
/// The sync grain's unread counts: the store's counts at a room position plus the notifications of the room's later
/// shared events, forgotten whenever the shared events cannot tell the whole story.
/// </summary>
public sealed class UnreadCountsCacheTests
{
    private const string Room = "!r:test";
    private const string Alice = "@alice:test";

    private readonly object _gate = new();
    private readonly FeedBuffer _feed = new();
    private readonly UnreadCountsCache _cache;

    public UnreadCountsCacheTests() => _cache = new UnreadCountsCache(Alice, _gate, _feed);

    private static SharedEvent Event(long roomPosition, SharedEventNotifications? notifications) => new(
        $"$e{roomPosition}", roomPosition, 100 + roomPosition, "m.room.message", null, "@bob:test", 0, false, [], [], null, null, notifications);

    private static SharedEventNotifications Notifying(bool highlight = false, string thread = "main") =>
        new(thread, [Alice, "@carol:test"], highlight ? [Alice] : []);

    private static RoomFeedEvents Batch(long previous, params SharedEvent[] events) => new(Room, previous, events);

    private void Receive(RoomFeedEvents batch)
    {
        lock (_gate)
        {
            _feed.Add(batch);
            _cache.Add(batch);
        }
    }

    private static RoomUnreadCounts Read(long position, long notifications = 0, long highlights = 0) =>
        new(Room, position, notifications == 0 ? [] : [new UnreadCount(Room, "main", notifications, highlights)]);

    [Fact]
    public void Later_events_add_their_notifications_of_the_user_to_the_counts_read()
    {
        _cache.Keep(Read(5, notifications: 2), _cache.Generation);
        Receive(Batch(5, Event(6, Notifying()), Event(7, SharedEventNotifications.None)));
        Receive(Batch(7, Event(8, Notifying(highlight: true)), Event(9, Notifying(thread: "$root"))));

        Assert.Equal((4L, 1L), _cache.Get(Room)!["main"]);
        Assert.Equal((1L, 0L), _cache.Get(Room)!["$root"]);
    }

    [Fact]
    public void Events_the_store_read_already_counted_are_not_counted_again()
    {
        Receive(Batch(4, Event(5, Notifying())));
        _cache.Keep(Read(6, notifications: 2), _cache.Generation);
        // Event 6 was committed before the read but reaches the grain after it.
        Receive(Batch(5, Event(6, Notifying())));
        Receive(Batch(6, Event(7, Notifying())));

        Assert.Equal((3L, 0L), _cache.Get(Room)!["main"]);
    }

    [Fact]
    public void Events_received_while_the_store_was_read_are_added_when_the_read_is_kept()
    {
        var generation = _cache.Generation;
        Receive(Batch(2, Event(3, Notifying()), Event(4, Notifying())));
        _cache.Keep(Read(3, notifications: 1), generation);

        Assert.Equal((2L, 0L), _cache.Get(Room)!["main"]);
    }

    [Fact]
    public void A_gap_unknown_notifications_or_a_read_mark_that_may_have_moved_forget_the_counts()
    {
        _cache.Keep(Read(5), _cache.Generation);
        Receive(Batch(6, Event(7, Notifying())));
        Assert.Null(_cache.Get(Room));

        _cache.Keep(Read(7), _cache.Generation);
        Receive(Batch(7, Event(8, null)));
        Assert.Null(_cache.Get(Room));

        _cache.Keep(Read(8), _cache.Generation);
        lock (_gate) _cache.ReadMarksMayHaveMoved(Room);
        Assert.Null(_cache.Get(Room));

        // A read taken before the marks may have moved is not kept.
        var before = _cache.Generation;
        lock (_gate) _cache.ReadMarksMayHaveMoved(null);
        _cache.Keep(Read(8), before);
        Assert.Null(_cache.Get(Room));

        // Nor one whose later events the feed lacks.
        var stale = _cache.Generation;
        Receive(Batch(10, Event(11, Notifying())));
        _cache.Keep(Read(8), stale);
        Assert.Null(_cache.Get(Room));
    }
}
