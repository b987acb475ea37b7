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
}
