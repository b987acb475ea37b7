using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>The event search index, events by timestamp and the user directory query.</summary>
public abstract class EventSearchTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
        await CreateAccountAsync(Carol);
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    private static EventSearchQuery Query(string term, EventSearchOrder order = EventSearchOrder.Recent, int limit = 10, params string[] rooms) =>
        new(term, rooms.Length == 0 ? [RoomA, RoomB] : rooms, EventSearchKeys.All, order, null, limit);

    private async Task<string[]> FindAsync(EventSearchQuery query) =>
        (await Store.Search.SearchAsync(query, Ct)).Select(hit => hit.EventId).ToArray();

    [Fact]
    public async Task Bodies_names_and_topics_are_found_as_they_are_appended_and_lost_when_redacted()
    {
        await AppendAsync(RoomA, [
            TestEvents.Message("$m1", body: "Walking the dogs in the park"),
            TestEvents.Message("$m2", body: "no match here"),
            TestEvents.State("$name", "m.room.name", "", new { name = "Dog lovers" }),
            TestEvents.State("$topic", "m.room.topic", "", new { topic = "All about dogs" }),
            TestEvents.State("$other", "m.room.name", "not-empty", new { name = "dog with a state key" }),
            new NewEvent("$enc", "m.room.encrypted", null, Alice, 2_000, TestEvents.Json(new { content = new { ciphertext = "dog", body = "dog" } })),
        ]);
        await AppendAsync(RoomB, [TestEvents.Message("$m3", body: "DOG!")]);

        // Stemming: "dog" finds "dogs"; case does not matter.
        Assert.Equal(["$m3", "$topic", "$name", "$m1"], await FindAsync(Query("dog")));
        Assert.Equal(4, await Store.Search.CountAsync(Query("dog"), Ct));
        Assert.Equal(["$m1"], await FindAsync(Query("dogs park")));
        Assert.Equal(["$name"], await FindAsync(Query("dog") with { Keys = [EventSearchKeys.Name] }));
        Assert.Equal(["$m3"], await FindAsync(Query("dog", rooms: RoomB)));
        Assert.Empty(await FindAsync(Query("cat")));
        Assert.Empty(await FindAsync(Query("!!!")));
        Assert.Empty(await FindAsync(Query("dog") with { RoomIds = [] }));

        var room = await Store.Rooms.GetRoomAsync(RoomA, Ct);
        await Store.Events.AppendAsync(new EventBatch(RoomA, room!.LastPosition, [TestEvents.Message("$redaction")])
        {
            Redactions = [new Redaction("$m1", TestEvents.Json(new { type = "m.room.message", content = new { } }))],
        }, Ct);
        Assert.Equal(["$m3", "$topic", "$name"], await FindAsync(Query("dog")));
    }

    [Fact]
    public async Task Pages_continue_after_the_cursor_in_either_order()
    {
        await AppendAsync(RoomA, [
            TestEvents.Message("$once", body: "apple pie with cream and sugar and more words"),
            TestEvents.Message("$thrice", body: "apple apple apple"),
            TestEvents.Message("$twice", body: "apple and apple"),
        ]);
        var ranked = await Store.Search.SearchAsync(Query("apple", EventSearchOrder.Rank), Ct);
        Assert.Equal("$thrice", ranked[0].EventId);
        Assert.True(ranked[0].Rank >= ranked[1].Rank && ranked[1].Rank >= ranked[2].Rank);

        foreach (var order in new[] { EventSearchOrder.Rank, EventSearchOrder.Recent })
        {
            var all = await Store.Search.SearchAsync(Query("apple", order), Ct);
            var first = await Store.Search.SearchAsync(Query("apple", order, limit: 2), Ct);
            var rest = await Store.Search.SearchAsync(Query("apple", order) with { After = new EventSearchCursor(first[1].Rank, first[1].GlobalPosition) }, Ct);
            Assert.Equal(all.Select(h => h.EventId), first.Concat(rest).Select(h => h.EventId));
        }
    }

    [Fact]
    public async Task Events_are_found_by_timestamp_in_either_direction()
    {
        await AppendAsync(RoomA, [
            TestEvents.Message("$t1", ts: 100), TestEvents.Message("$t2", ts: 200), TestEvents.Message("$t2b", ts: 200), TestEvents.Message("$t3", ts: 300),
        ]);
        async Task<string[]> Ids(long ts, Direction direction, int skip = 0) =>
            (await Store.Search.GetEventsByTimestampAsync(RoomA, ts, direction, skip, 10, Ct)).Select(e => e.EventId).ToArray();

        Assert.Equal(["$t2", "$t2b", "$t3"], await Ids(200, Direction.Forward));
        Assert.Equal(["$t2b", "$t2", "$t1"], await Ids(200, Direction.Backward));
        Assert.Equal(["$t3"], await Ids(201, Direction.Forward));
        Assert.Equal(["$t2b", "$t3"], await Ids(150, Direction.Forward, skip: 1));
        Assert.Empty(await Ids(301, Direction.Forward));
        Assert.Empty(await Ids(99, Direction.Backward));
        Assert.Empty(await Store.Search.GetEventsByTimestampAsync(RoomB, 0, Direction.Forward, 0, 10, Ct));
    }

    [Fact]
    public async Task The_directory_holds_active_users_sharing_a_room_or_in_a_public_room()
    {
        await Store.Accounts.SetDisplayNameAsync(Bob, "Bob_Builder", Ct);
        await CreateAccountAsync("@dave:test");
        await CreateAccountAsync("@erin:test");
        await AppendStateAsync(RoomA, TestEvents.Member("$a1", Alice, "join"), TestEvents.Member("$b1", Bob, "join"));
        await AppendStateAsync(RoomB, TestEvents.Member("$c1", Carol, "join"), TestEvents.Member("$d1", "@dave:test", "join"),
            TestEvents.State("$jr", "m.room.join_rules", "", new { join_rule = "public" }));
        await CreateRoomAsync(RoomC);
        await AppendStateAsync(RoomC, TestEvents.Member("$e1", "@erin:test", "join"));

        async Task<string[]> Users(string searcher, string term, int limit = 10) =>
            (await Store.Search.SearchUsersAsync(searcher, term, limit, Ct)).Select(u => u.UserId).ToArray();

        Assert.Equal([Alice, Bob, Carol, "@dave:test"], await Users(Alice, ""));
        Assert.Equal([Bob], await Users(Alice, "builder"));
        // % and _ are plain characters, not patterns.
        Assert.Equal([Bob], await Users(Alice, "B_B"));
        Assert.Empty(await Users(Alice, "bo_"));
        Assert.Empty(await Users(Alice, "bob%"));
        Assert.Empty(await Users(Alice, "erin"));
        Assert.Equal(["@erin:test"], await Users("@erin:test", "erin"));
        Assert.Equal([Alice], await Users(Alice, "", limit: 1));

        await Store.Accounts.DeactivateAsync(Bob, erase: false, Ct);
        Assert.Equal([Alice, Carol, "@dave:test"], await Users(Alice, ""));
    }
}
