using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class EventQueryTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
        await CreateRoomAsync(RoomC);
    }

    [Fact]
    public async Task An_empty_store_has_global_position_zero()
    {
        Assert.Equal(0, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Empty(await Store.Events.GetLatestEventsAsync(RoomA, 10, Ct));
        Assert.Empty(await Store.Events.GetRoomEventsAsync(RoomA, 0, Direction.Forward, 10, Ct));
        Assert.Empty(await Store.Events.GetEventsAfterAsync([RoomA], 0, 10, Ct));
    }

    [Fact]
    public async Task Forward_pagination_walks_the_room_in_order()
    {
        await AppendMessagesAsync(RoomA, "a", 5);
        await AppendMessagesAsync(RoomB, "b", 3);
        await AppendMessagesAsync(RoomA, "c", 2);

        var pages = new List<string[]>();
        long from = 0;
        while (true)
        {
            var page = await Store.Events.GetRoomEventsAsync(RoomA, from, Direction.Forward, 3, Ct);
            if (page.Count == 0)
            {
                break;
            }
            pages.Add(page.Select(e => e.EventId).ToArray());
            from = page[^1].RoomPosition;
        }

        Assert.Equal(
            [["$a1", "$a2", "$a3"], ["$a4", "$a5", "$c1"], ["$c2"]],
            pages);
    }

    [Fact]
    public async Task Backward_pagination_walks_the_room_newest_first()
    {
        await AppendMessagesAsync(RoomA, "a", 7);
        await AppendMessagesAsync(RoomB, "b", 3);

        var first = await Store.Events.GetRoomEventsAsync(RoomA, long.MaxValue, Direction.Backward, 3, Ct);
        var second = await Store.Events.GetRoomEventsAsync(RoomA, first[^1].RoomPosition, Direction.Backward, 3, Ct);
        var third = await Store.Events.GetRoomEventsAsync(RoomA, second[^1].RoomPosition, Direction.Backward, 3, Ct);
        var end = await Store.Events.GetRoomEventsAsync(RoomA, third[^1].RoomPosition, Direction.Backward, 3, Ct);

        Assert.Equal(["$a7", "$a6", "$a5"], first.Select(e => e.EventId));
        Assert.Equal(["$a4", "$a3", "$a2"], second.Select(e => e.EventId));
        Assert.Equal(["$a1"], third.Select(e => e.EventId));
        Assert.Empty(end);
    }

    [Fact]
    public async Task Pagination_from_the_middle_excludes_the_from_position()
    {
        await AppendMessagesAsync(RoomA, "a", 5);

        Assert.Equal(["$a4", "$a5"], (await Store.Events.GetRoomEventsAsync(RoomA, 3, Direction.Forward, 10, Ct)).Select(e => e.EventId));
        Assert.Equal(["$a2", "$a1"], (await Store.Events.GetRoomEventsAsync(RoomA, 3, Direction.Backward, 10, Ct)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Latest_events_are_the_newest_oldest_first()
    {
        await AppendMessagesAsync(RoomA, "a", 6);
        await AppendMessagesAsync(RoomB, "b", 2);

        Assert.Equal(["$a4", "$a5", "$a6"], (await Store.Events.GetLatestEventsAsync(RoomA, 3, Ct)).Select(e => e.EventId));
        Assert.Equal(["$b1", "$b2"], (await Store.Events.GetLatestEventsAsync(RoomB, 10, Ct)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Events_after_a_global_position_cover_only_the_given_rooms()
    {
        await AppendMessagesAsync(RoomA, "a", 2);
        var cut = await Store.Events.GetMaxGlobalPositionAsync(Ct);
        await AppendMessagesAsync(RoomB, "b", 2);
        await AppendMessagesAsync(RoomC, "c", 2);
        await AppendMessagesAsync(RoomA, "d", 2);

        var after = await Store.Events.GetEventsAfterAsync([RoomA, RoomB], cut, 100, Ct);

        Assert.Equal(["$b1", "$b2", "$d1", "$d2"], after.Select(e => e.EventId));
        Assert.Equal(after.Select(e => e.GlobalPosition).Order(), after.Select(e => e.GlobalPosition));
        Assert.All(after, e => Assert.True(e.GlobalPosition > cut));

        var limited = await Store.Events.GetEventsAfterAsync([RoomA, RoomB, RoomC], cut, 3, Ct);
        Assert.Equal(["$b1", "$b2", "$c1"], limited.Select(e => e.EventId));
        var rest = await Store.Events.GetEventsAfterAsync([RoomA, RoomB, RoomC], limited[^1].GlobalPosition, 100, Ct);
        Assert.Equal(["$c2", "$d1", "$d2"], rest.Select(e => e.EventId));

        Assert.Empty(await Store.Events.GetEventsAfterAsync([], 0, 100, Ct));
        Assert.Empty(await Store.Events.GetEventsAfterAsync(["!unknown:test"], 0, 100, Ct));
    }

    [Fact]
    public async Task Event_places_name_the_room_and_the_user_of_member_events_in_a_range()
    {
        await AppendMessagesAsync(RoomA, "a", 1);
        var cut = await Store.Events.GetMaxGlobalPositionAsync(Ct);
        await AppendMessagesAsync(RoomB, "b", 1);
        await AppendStateAsync(RoomC, TestEvents.Member("$join", "@bob:test", "join"));
        await AppendStateAsync(RoomC, TestEvents.State("$topic", "m.room.topic", "", new { topic = "t" }));
        await AppendMessagesAsync(RoomA, "d", 2);
        var end = await Store.Events.GetMaxGlobalPositionAsync(Ct);

        var places = await Store.Events.GetEventPlacesAsync(cut, end - 1, 100, Ct);

        Assert.Equal(
            [(RoomB, (string?)null), (RoomC, "@bob:test"), (RoomC, null), (RoomA, null)],
            places.Select(p => (p.RoomId, p.MemberUserId)));
        Assert.Equal(Enumerable.Range(1, 4).Select(i => cut + i), places.Select(p => p.GlobalPosition));
        Assert.Equal([cut + 1, cut + 2], (await Store.Events.GetEventPlacesAsync(cut, end, 2, Ct)).Select(p => p.GlobalPosition));
        Assert.Empty(await Store.Events.GetEventPlacesAsync(end, end, 100, Ct));
        Assert.Empty(await Store.Events.GetEventPlacesAsync(end, cut, 100, Ct));
    }

    [Fact]
    public async Task Events_after_a_global_position_accept_many_rooms()
    {
        var rooms = Enumerable.Range(0, 2_000).Select(i => $"!many{i}:test").ToList();
        await AppendMessagesAsync(RoomA, "a", 1);

        var after = await Store.Events.GetEventsAfterAsync(rooms.Append(RoomA).ToList(), 0, 10, Ct);

        Assert.Equal(["$a1"], after.Select(e => e.EventId));
    }
}
