using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class ReceiptTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
        await CreateRoomAsync(RoomC);
    }

    private Task<long> ReadAsync(string room, string user, string eventId, long ts = 10) =>
        Store.Receipts.SetReceiptAsync(new NewReceipt(room, "m.read", user, eventId, ts, TestEvents.Json(new { ts })), Ct);

    [Fact]
    public async Task Receipts_read_back_per_room_and_replace_per_user_and_type()
    {
        var first = await ReadAsync(RoomA, Bob, "$1", ts: 10);
        await Store.Receipts.SetReceiptAsync(
            new NewReceipt(RoomA, "m.read.private", Alice, "$1", 11, TestEvents.Json(new { ts = 11 })), Ct);
        var moved = await ReadAsync(RoomA, Bob, "$2", ts: 12);
        await ReadAsync(RoomB, Bob, "$9");

        Assert.True(moved > first);
        var receipts = await Store.Receipts.GetReceiptsAsync(RoomA, Ct);
        Assert.Equal(
            [(RoomA, "m.read", Bob, "$2", 12L, moved), (RoomA, "m.read.private", Alice, "$1", 11L, first + 1)],
            receipts.Select(r => (r.RoomId, r.ReceiptType, r.UserId, r.EventId, r.Ts, r.StreamPosition)));
        Assert.Equal(TestEvents.Json(new { ts = 12 }), receipts[0].Data);
        Assert.Empty(await Store.Receipts.GetReceiptsAsync(RoomC, Ct));
    }

    [Fact]
    public async Task Receipt_changes_since_a_position_cover_the_given_rooms_in_order()
    {
        Assert.Equal(0, await Store.Receipts.GetMaxStreamPositionAsync(Ct));
        var since = await ReadAsync(RoomA, Alice, "$1");
        var b = await ReadAsync(RoomB, Alice, "$2");
        await ReadAsync(RoomC, Alice, "$3");
        var a = await ReadAsync(RoomA, Bob, "$4");

        var changes = await Store.Receipts.GetReceiptChangesAsync([RoomA, RoomB], since, 100, Ct);

        Assert.Equal([(RoomB, b), (RoomA, a)], changes.Select(r => (r.RoomId, r.StreamPosition)));
        Assert.Equal([(RoomB, b)], (await Store.Receipts.GetReceiptChangesAsync([RoomA, RoomB], since, 1, Ct)).Select(r => (r.RoomId, r.StreamPosition)));
        Assert.Empty(await Store.Receipts.GetReceiptChangesAsync([], 0, 100, Ct));
        Assert.Equal(a, await Store.Receipts.GetMaxStreamPositionAsync(Ct));
    }

    [Fact]
    public async Task A_receipt_in_an_unknown_room_is_refused()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() => ReadAsync("!ghost:test", Alice, "$1"));
        Assert.Equal(0, await Store.Receipts.GetMaxStreamPositionAsync(Ct));
    }
}
