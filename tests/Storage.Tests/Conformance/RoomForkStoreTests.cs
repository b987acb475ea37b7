using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class RoomForkStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    [Fact]
    public async Task A_room_without_extremity_rows_reads_empty()
    {
        await Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$1")]), Ct);

        Assert.Empty(await Store.Forks.GetForwardExtremitiesAsync(RoomA, Ct));
    }

    [Fact]
    public async Task Extremities_are_replaced_with_the_batch_and_cleared_by_an_empty_list()
    {
        var stateOne = TestEvents.Utf8("[[\"m.room.create\",\"\",\"$c\"]]");
        var stateTwo = TestEvents.Utf8("[]");
        await Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$1"), TestEvents.Message("$2")])
        {
            ForwardExtremities = [new ForwardExtremityRow("$1", stateOne), new ForwardExtremityRow("$2", stateTwo)],
        }, Ct);
        await Store.Events.AppendAsync(new EventBatch(RoomB, 0, [TestEvents.Message("$b")])
        {
            ForwardExtremities = [new ForwardExtremityRow("$b", stateTwo)],
        }, Ct);

        var forked = await Store.Forks.GetForwardExtremitiesAsync(RoomA, Ct);
        Assert.Equal(["$1", "$2"], forked.Select(e => e.EventId));
        Assert.Equal(stateOne, forked[0].StateAfter);

        // A batch that leaves them alone keeps them; one that names others replaces them.
        await Store.Events.AppendAsync(new EventBatch(RoomA, 2, [TestEvents.Message("$3")]), Ct);
        Assert.Equal(2, (await Store.Forks.GetForwardExtremitiesAsync(RoomA, Ct)).Count);
        await Store.Events.AppendAsync(new EventBatch(RoomA, 3, [TestEvents.Message("$4")])
        {
            ForwardExtremities = [new ForwardExtremityRow("$4", stateTwo), new ForwardExtremityRow("$3", stateOne)],
        }, Ct);
        Assert.Equal(["$3", "$4"], (await Store.Forks.GetForwardExtremitiesAsync(RoomA, Ct)).Select(e => e.EventId));

        await Store.Events.AppendAsync(new EventBatch(RoomA, 4, [TestEvents.Message("$5")]) { ForwardExtremities = [] }, Ct);
        Assert.Empty(await Store.Forks.GetForwardExtremitiesAsync(RoomA, Ct));
        Assert.Single(await Store.Forks.GetForwardExtremitiesAsync(RoomB, Ct));
    }

    [Fact]
    public async Task A_failed_append_leaves_the_extremities_as_they_were()
    {
        var state = TestEvents.Utf8("[]");
        await Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$1")])
        {
            ForwardExtremities = [new ForwardExtremityRow("$1", state), new ForwardExtremityRow("$x", state)],
        }, Ct);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => Store.Events.AppendAsync(
            new EventBatch(RoomA, 0, [TestEvents.Message("$2")]) { ForwardExtremities = [] }, Ct));

        Assert.Equal(2, (await Store.Forks.GetForwardExtremitiesAsync(RoomA, Ct)).Count);
    }

    [Fact]
    public async Task A_soft_failed_event_is_kept_once_and_read_back()
    {
        var json = TestEvents.Utf8("{\"type\":\"m.room.message\"}");
        await Store.Forks.StoreSoftFailedAsync(new SoftFailedEvent("$soft", RoomA, json), 1_000, Ct);
        await Store.Forks.StoreSoftFailedAsync(new SoftFailedEvent("$soft", RoomA, TestEvents.Utf8("{}")), 2_000, Ct);

        var stored = await Store.Forks.GetSoftFailedAsync("$soft", Ct);
        Assert.NotNull(stored);
        Assert.Equal(RoomA, stored.RoomId);
        Assert.Equal(json, stored.Json);
        Assert.Null(await Store.Forks.GetSoftFailedAsync("$other", Ct));
        Assert.Null(await Store.Events.GetEventAsync("$soft", Ct));
    }

    [Fact]
    public async Task A_rejected_event_is_kept_once_with_its_reason_outside_the_timeline()
    {
        var json = TestEvents.Utf8("{\"type\":\"m.room.power_levels\"}");
        await Store.Forks.StoreRejectedAsync(new RejectedEvent("$rejected", RoomA, json, "not allowed"), 1_000, Ct);
        await Store.Forks.StoreRejectedAsync(new RejectedEvent("$rejected", RoomB, TestEvents.Utf8("{}"), "other"), 2_000, Ct);

        var stored = await Store.Forks.GetRejectedAsync("$rejected", Ct);
        Assert.NotNull(stored);
        Assert.Equal(RoomA, stored.RoomId);
        Assert.Equal(json, stored.Json);
        Assert.Equal("not allowed", stored.Reason);
        Assert.Null(await Store.Forks.GetRejectedAsync("$other", Ct));
        Assert.Null(await Store.Events.GetEventAsync("$rejected", Ct));
        Assert.Null(await Store.Forks.GetSoftFailedAsync("$rejected", Ct));
    }
}
