using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class TransactionIdTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    private static NewEvent Sent(string eventId, string device, string txn, long ts = 2_000) =>
        TestEvents.Message(eventId, ts: ts) with { Transaction = new ClientTransaction(device, txn) };

    [Fact]
    public async Task A_sent_event_is_found_by_its_transaction_id()
    {
        await AppendAsync(RoomA, [Sent("$e1", "PHONE", "t1"), TestEvents.Message("$plain")]);

        Assert.Equal("$e1", await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t1", Ct));
        Assert.Null(await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "LAPTOP", "t1", Ct));
        Assert.Null(await Store.TransactionIds.FindEventIdAsync(RoomA, Bob, "PHONE", "t1", Ct));
        Assert.Null(await Store.TransactionIds.FindEventIdAsync(RoomB, Alice, "PHONE", "t1", Ct));
        Assert.Null(await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t2", Ct));
    }

    [Fact]
    public async Task The_same_transaction_id_may_be_used_in_another_room()
    {
        await AppendAsync(RoomA, [Sent("$a", "PHONE", "t1")]);
        await AppendAsync(RoomB, [Sent("$b", "PHONE", "t1")]);

        Assert.Equal("$a", await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t1", Ct));
        Assert.Equal("$b", await Store.TransactionIds.FindEventIdAsync(RoomB, Alice, "PHONE", "t1", Ct));
    }

    [Fact]
    public async Task Reusing_a_transaction_id_in_the_room_fails_the_whole_batch()
    {
        await AppendAsync(RoomA, [Sent("$first", "PHONE", "t1")]);

        await Assert.ThrowsAsync<DuplicateEventException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 1, [TestEvents.Message("$other"), Sent("$retry", "PHONE", "t1")]), Ct));

        Assert.Equal("$first", await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t1", Ct));
        Assert.Null(await Store.Events.GetEventAsync("$retry", Ct));
        Assert.Null(await Store.Events.GetEventAsync("$other", Ct));
        Assert.Equal(1, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
    }

    [Fact]
    public async Task Pruning_forgets_only_old_transaction_ids()
    {
        await AppendAsync(RoomA, [Sent("$old", "PHONE", "t1", ts: 1_000), Sent("$new", "PHONE", "t2", ts: 5_000)]);

        Assert.Equal(1, await Store.TransactionIds.PruneAsync(2_000, Ct));

        Assert.Null(await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t1", Ct));
        Assert.Equal("$new", await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t2", Ct));
        Assert.NotNull(await Store.Events.GetEventAsync("$old", Ct));
    }
}
