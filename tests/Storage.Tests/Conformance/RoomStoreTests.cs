using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class RoomStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    [Fact]
    public async Task Created_room_reads_back_with_no_events()
    {
        Assert.True(await Store.Rooms.CreateRoomAsync(new NewRoom(RoomA, "11", Alice, 42, Published: true), Ct));

        Assert.Equal(new Room(RoomA, "11", Alice, 42, Published: true, LastPosition: 0), await Store.Rooms.GetRoomAsync(RoomA, Ct));
        Assert.Null(await Store.Rooms.GetRoomAsync(RoomB, Ct));
    }

    [Fact]
    public async Task Creating_a_taken_room_id_returns_false_and_keeps_the_original()
    {
        await Store.Rooms.CreateRoomAsync(new NewRoom(RoomA, "10", Alice, 1), Ct);

        Assert.False(await Store.Rooms.CreateRoomAsync(new NewRoom(RoomA, "11", Bob, 2), Ct));

        Assert.Equal(new Room(RoomA, "10", Alice, 1, false, 0), await Store.Rooms.GetRoomAsync(RoomA, Ct));
    }

    [Fact]
    public async Task Published_rooms_are_listed_in_pages()
    {
        foreach (var room in new[] { "!e:test", "!b:test", "!d:test", "!a:test", "!c:test" })
        {
            await CreateRoomAsync(room);
        }
        foreach (var room in new[] { "!a:test", "!b:test", "!c:test", "!e:test" })
        {
            Assert.True(await Store.Rooms.SetPublishedAsync(room, true, Ct));
        }
        Assert.True(await Store.Rooms.SetPublishedAsync("!b:test", false, Ct));
        Assert.False(await Store.Rooms.SetPublishedAsync("!unknown:test", true, Ct));

        var first = await Store.Rooms.GetPublishedRoomsAsync(null, 2, Ct);
        var second = await Store.Rooms.GetPublishedRoomsAsync(first[^1], 2, Ct);

        Assert.Equal(["!a:test", "!c:test"], first);
        Assert.Equal(["!e:test"], second);
        Assert.Empty(await Store.Rooms.GetPublishedRoomsAsync("!e:test", 2, Ct));
        Assert.True((await Store.Rooms.GetRoomAsync("!e:test", Ct))!.Published);
        Assert.False((await Store.Rooms.GetRoomAsync("!b:test", Ct))!.Published);
    }
    [Fact]
    public async Task A_forgotten_room_stays_forgotten_until_the_users_next_membership_event()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
        await AppendStateAsync(RoomA, TestEvents.Member("$alice-join", Alice, "join"), TestEvents.Member("$bob-join", Bob, "join"));
        await AppendStateAsync(RoomA, TestEvents.Member("$bob-leave", Bob, "leave"));

        await Store.Rooms.SetForgottenAsync(Bob, RoomA, Ct);
        await Store.Rooms.SetForgottenAsync(Bob, RoomA, Ct);
        await Store.Rooms.SetForgottenAsync(Bob, RoomB, Ct);

        Assert.True(await Store.Rooms.IsForgottenAsync(Bob, RoomA, Ct));
        Assert.False(await Store.Rooms.IsForgottenAsync(Alice, RoomA, Ct));
        Assert.Equal([RoomA, RoomB], await Store.Rooms.GetForgottenRoomsAsync(Bob, Ct));

        await AppendAsync(RoomA, [TestEvents.Message("$chat", Alice)]);
        Assert.True(await Store.Rooms.IsForgottenAsync(Bob, RoomA, Ct));

        await AppendStateAsync(RoomA, TestEvents.Member("$bob-invite", Bob, "invite", Alice));
        Assert.False(await Store.Rooms.IsForgottenAsync(Bob, RoomA, Ct));
        Assert.Equal([RoomB], await Store.Rooms.GetForgottenRoomsAsync(Bob, Ct));
    }

    [Fact]
    public async Task Forgetting_an_unknown_room_throws_not_found()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() => Store.Rooms.SetForgottenAsync(Bob, "!unknown:test", Ct));
        Assert.Empty(await Store.Rooms.GetForgottenRoomsAsync(Bob, Ct));
    }
}
