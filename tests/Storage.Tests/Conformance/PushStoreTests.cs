using System.Text;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Notifications stored with their events, read marks per thread, unread counts and push rule look-ups.</summary>
public abstract class PushStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private static readonly byte[] Notify = Encoding.UTF8.GetBytes("[\"notify\"]");

    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    private static NewEvent Notifying(string eventId, string thread = "main", bool highlight = false, params string[] users) =>
        TestEvents.Message(eventId) with { Notifications = users.Select(u => new NewNotification(u, thread, highlight, Notify)).ToList() };

    private async Task<Dictionary<(string Room, string Thread), (long, long)>> CountsAsync(string userId) =>
        (await Store.Push.GetUnreadCountsAsync(userId, [RoomA, RoomB], Ct))
            .ToDictionary(c => (c.RoomId, c.ThreadId), c => (c.NotificationCount, c.HighlightCount));

    [Fact]
    public async Task Notifications_are_counted_per_room_and_thread_until_a_read_mark_reaches_them()
    {
        var a = await AppendAsync(RoomA, [
            Notifying("$1", users: [Bob]),
            Notifying("$2", highlight: true, users: [Bob, Alice]),
            Notifying("$3", thread: "$1", users: [Bob]),
            TestEvents.Message("$4"),
        ]);
        await AppendAsync(RoomB, [Notifying("$5", users: [Bob])]);

        Assert.Equal(new Dictionary<(string, string), (long, long)>
        {
            [(RoomA, "main")] = (2, 1), [(RoomA, "$1")] = (1, 0), [(RoomB, "main")] = (1, 0),
        }, await CountsAsync(Bob));
        Assert.Equal((1L, 1L), (await CountsAsync(Alice))[(RoomA, "main")]);

        // A threaded mark covers its own thread; an unthreaded one every thread; marks never move back.
        await Store.Push.SetReadMarkAsync(Bob, RoomA, "main", a[1].RoomPosition, Ct);
        Assert.Equal(new Dictionary<(string, string), (long, long)> { [(RoomA, "$1")] = (1, 0), [(RoomB, "main")] = (1, 0) }, await CountsAsync(Bob));
        await Store.Push.SetReadMarkAsync(Bob, RoomA, "", a[3].RoomPosition, Ct);
        await Store.Push.SetReadMarkAsync(Bob, RoomA, "", a[0].RoomPosition, Ct);
        Assert.Equal(new Dictionary<(string, string), (long, long)> { [(RoomB, "main")] = (1, 0) }, await CountsAsync(Bob));
        Assert.Empty(await Store.Push.GetUnreadCountsAsync(Bob, [], Ct));

        var listed = await Store.Push.GetNotificationsAsync(Bob, null, 10, onlyHighlight: false, Ct);
        Assert.Equal(["$5", "$3", "$2", "$1"], listed.Select(n => n.EventId));
        Assert.Equal([false, true, true, true], listed.Select(n => n.Read));
        Assert.Equal(["$2"], (await Store.Push.GetNotificationsAsync(Bob, null, 10, onlyHighlight: true, Ct)).Select(n => n.EventId));
        Assert.Equal(["$2", "$1"], (await Store.Push.GetNotificationsAsync(Bob, listed[1].GlobalPosition, 10, onlyHighlight: false, Ct)).Select(n => n.EventId));
    }

    [Fact]
    public async Task A_batch_notifying_more_users_than_one_insert_statement_holds_stores_each_notification_once()
    {
        var many = Enumerable.Range(0, 450).Select(i => $"@member{i}:example.org").ToArray();
        await AppendAsync(RoomA, [Notifying("$wide", users: many), Notifying("$highlighted", highlight: true, users: [many[0], many[449]])]);

        foreach (var user in new[] { many[0], many[1], many[200], many[448], many[449] })
        {
            var expected = user == many[0] || user == many[449] ? (2L, 1L) : (1L, 0L);
            var counts = Assert.Single(await Store.Push.GetUnreadCountsAsync(user, [RoomA], Ct));
            Assert.Equal(expected, (counts.NotificationCount, counts.HighlightCount));
        }
        Assert.Equal(452, await CountRowsAsync("push_notifications"));

        // A failing append stores none of its notifications.
        await Assert.ThrowsAsync<DuplicateEventException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 2, [Notifying("$fresh", users: many), Notifying("$wide", users: many)]), Ct));
        Assert.Equal(452, await CountRowsAsync("push_notifications"));
        Assert.Empty(await Store.Push.GetUnreadCountsAsync(Alice, [RoomA], Ct));
    }

    [Fact]
    public async Task Counts_with_positions_are_those_of_the_events_up_to_each_rooms_newest_position()
    {
        var a = await AppendAsync(RoomA, [Notifying("$1", users: [Bob]), Notifying("$2", thread: "$1", highlight: true, users: [Bob])]);
        var b = await AppendAsync(RoomB, [TestEvents.Message("$3")]);
        await Store.Push.SetReadMarkAsync(Bob, RoomA, "main", a[0].RoomPosition, Ct);

        var read = (await Store.Push.GetUnreadCountsWithPositionsAsync(Bob, [RoomA, RoomB, "!missing:test"], Ct)).ToDictionary(r => r.RoomId);

        Assert.Equal([RoomA, RoomB], read.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(a[1].RoomPosition, read[RoomA].RoomPosition);
        Assert.Equal((RoomA, "$1", 1L, 1L), Assert.Single(read[RoomA].Counts) is var c ? (c.RoomId, c.ThreadId, c.NotificationCount, c.HighlightCount) : default);
        Assert.Equal(b[0].RoomPosition, read[RoomB].RoomPosition);
        Assert.Empty(read[RoomB].Counts);
        Assert.Empty(await Store.Push.GetUnreadCountsWithPositionsAsync(Bob, [], Ct));
    }

    [Fact]
    public async Task Push_rules_are_read_for_many_users_and_followed_by_position()
    {
        var start = await Store.AccountData.GetMaxStreamPositionAsync(Ct);
        await Store.AccountData.SetAccountDataAsync(Alice, null, "m.push_rules", Encoding.UTF8.GetBytes("{\"global\":{\"a\":1}}"), Ct);
        await Store.AccountData.SetAccountDataAsync(Bob, null, "m.other", Encoding.UTF8.GetBytes("{}"), Ct);
        var bobs = await Store.AccountData.SetAccountDataAsync(Bob, null, "m.push_rules", Encoding.UTF8.GetBytes("{\"global\":{\"b\":1}}"), Ct);

        Assert.Equal([Alice, Bob], (await Store.Push.GetPushRuleChangesAsync(start, Ct)).Select(r => r.UserId));
        Assert.Empty(await Store.Push.GetPushRuleChangesAsync(bobs, Ct));
        var rules = await Store.Push.GetPushRulesAsync([Bob, Carol], Ct);
        Assert.Equal("{\"global\":{\"b\":1}}", Encoding.UTF8.GetString(Assert.Single(rules).Content));
    }
}
