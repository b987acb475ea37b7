using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class RelationStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    private static NewEvent Child(string eventId, string parentId, string relType, string sender = Alice, long ts = 2_000) =>
        TestEvents.Message(eventId, sender, ts: ts) with { Relation = new EventRelation(parentId, relType) };

    private Task<IReadOnlyList<StoredEvent>> RelatedAsync(
        string parentId, string? relType = null, long from = long.MaxValue, Direction direction = Direction.Backward, int limit = 100, int depth = 1) =>
        Store.Relations.GetRelatedEventsAsync(new RelationQuery(RoomA, parentId, relType, null, from, null, direction, limit, depth), Ct);

    [Fact]
    public async Task Only_relations_to_a_parent_in_the_same_room_and_valid_edits_are_recorded()
    {
        await AppendAsync(RoomB, [TestEvents.Message("$elsewhere")]);
        await AppendAsync(RoomA, [TestEvents.Message("$parent"), TestEvents.State("$topic", "m.room.topic", "", new { topic = "t" })]);
        await AppendAsync(RoomA, [
            Child("$thread", "$parent", "m.thread", Bob),
            Child("$edit", "$parent", "m.replace"),
            Child("$foreign-edit", "$parent", "m.replace", Bob),
            Child("$edit-of-edit", "$edit", "m.replace"),
            Child("$state-edit", "$topic", "m.replace"),
            Child("$cross-room", "$elsewhere", "m.reference"),
            Child("$unknown-parent", "$nothing", "m.reference"),
        ]);

        Assert.Equal(["$edit", "$thread"], (await RelatedAsync("$parent")).Select(e => e.EventId));
        Assert.Empty(await RelatedAsync("$edit"));
        Assert.Empty(await RelatedAsync("$topic"));
        Assert.Empty(await Store.Relations.GetRelatedEventsAsync(
            new RelationQuery(RoomB, "$elsewhere", null, null, long.MaxValue, null, Direction.Backward, 10), Ct));
    }

    [Fact]
    public async Task A_redacted_child_no_longer_relates()
    {
        await AppendAsync(RoomA, [TestEvents.Message("$parent"), Child("$a", "$parent", "m.reference"), Child("$b", "$parent", "m.reference")]);
        var room = await Store.Rooms.GetRoomAsync(RoomA, Ct);
        await Store.Events.AppendAsync(new EventBatch(RoomA, room!.LastPosition, [TestEvents.Message("$redaction")])
        {
            Redactions = [new Redaction("$a", TestEvents.Json(new { type = "m.room.message", content = new { } }))],
        }, Ct);

        Assert.Equal(["$b"], (await RelatedAsync("$parent")).Select(e => e.EventId));
        var aggregation = (await Store.Relations.GetAggregationsAsync(RoomA, ["$parent"], Alice, Ct))["$parent"];
        Assert.Equal(["$b"], aggregation.References);
    }

    [Fact]
    public async Task Related_events_page_by_position_both_ways_and_recurse_to_the_given_depth()
    {
        var appended = await AppendAsync(RoomA, [
            TestEvents.Message("$root"), Child("$1", "$root", "m.thread"), Child("$2", "$root", "m.thread"),
            Child("$1-edit", "$1", "m.replace"), Child("$ref", "$1-edit", "m.reference"), Child("$ref-ref", "$ref", "m.reference"),
        ]);
        var position = appended.ToDictionary(a => a.EventId, a => a.RoomPosition);

        Assert.Equal(["$2", "$1"], (await RelatedAsync("$root")).Select(e => e.EventId));
        Assert.Equal(["$1"], (await RelatedAsync("$root", from: position["$2"] - 1)).Select(e => e.EventId));
        Assert.Equal(["$2"], (await RelatedAsync("$root", from: position["$1"], direction: Direction.Forward)).Select(e => e.EventId));
        Assert.Equal(["$1"], (await RelatedAsync("$root", limit: 1, direction: Direction.Forward, from: 0)).Select(e => e.EventId));
        Assert.Equal(["$ref", "$1-edit", "$2", "$1"], (await RelatedAsync("$root", depth: 3)).Select(e => e.EventId));
        Assert.Equal(["$1-edit"], (await RelatedAsync("$root", "m.replace", depth: 3)).Select(e => e.EventId));
        Assert.Contains("$ref-ref", (await RelatedAsync("$root", depth: 4)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Aggregations_summarise_threads_edits_and_references_per_parent()
    {
        await AppendAsync(RoomA, [
            TestEvents.Message("$root"), TestEvents.Message("$edited"), TestEvents.Message("$plain"),
            Child("$r1", "$root", "m.thread", Bob), Child("$r2", "$root", "m.thread", Carol),
            Child("$e-late", "$edited", "m.replace", ts: 5_000), Child("$e-early", "$edited", "m.replace", ts: 4_000),
            Child("$ref", "$edited", "m.reference", Bob), Child("$like", "$edited", "m.annotation", Bob),
        ]);

        var forBob = await Store.Relations.GetAggregationsAsync(RoomA, ["$root", "$edited", "$plain", "$unknown"], Bob, Ct);
        Assert.Equal(["$edited", "$root"], forBob.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((2, "$r2", true), (forBob["$root"].ThreadCount, forBob["$root"].LatestThreadEvent!.EventId, forBob["$root"].UserRepliedInThread));
        Assert.Null(forBob["$root"].LatestEdit);
        Assert.Equal("$e-late", forBob["$edited"].LatestEdit!.EventId);
        Assert.Equal(["$ref"], forBob["$edited"].References);
        Assert.Equal(0, forBob["$edited"].ThreadCount);
        Assert.False((await Store.Relations.GetAggregationsAsync(RoomA, ["$root"], Alice, Ct))["$root"].UserRepliedInThread);
        Assert.Empty(await Store.Relations.GetAggregationsAsync(RoomA, [], Alice, Ct));
    }

    [Fact]
    public async Task Thread_roots_come_latest_reply_first_and_narrow_to_a_participant()
    {
        var appended = await AppendAsync(RoomA, [
            TestEvents.Message("$alice-root"), TestEvents.Message("$bob-root", Bob),
            Child("$1", "$alice-root", "m.thread", Carol), Child("$2", "$bob-root", "m.thread", Bob), Child("$3", "$alice-root", "m.thread", Carol),
        ]);
        var position = appended.ToDictionary(a => a.EventId, a => a.RoomPosition);

        var all = await Store.Relations.GetThreadRootsAsync(RoomA, long.MaxValue, null, 10, Ct);
        Assert.Equal([new ThreadRoot("$alice-root", position["$3"]), new ThreadRoot("$bob-root", position["$2"])], all);
        Assert.Equal(["$bob-root"], (await Store.Relations.GetThreadRootsAsync(RoomA, position["$3"], null, 10, Ct)).Select(t => t.EventId));
        Assert.Equal(["$bob-root"], (await Store.Relations.GetThreadRootsAsync(RoomA, long.MaxValue, Bob, 10, Ct)).Select(t => t.EventId));
        Assert.Equal(["$alice-root"], (await Store.Relations.GetThreadRootsAsync(RoomA, long.MaxValue, Carol, 10, Ct)).Select(t => t.EventId));
        Assert.Equal(["$alice-root"], (await Store.Relations.GetThreadRootsAsync(RoomA, long.MaxValue, Alice, 10, Ct)).Select(t => t.EventId));
        Assert.Empty(await Store.Relations.GetThreadRootsAsync(RoomB, long.MaxValue, null, 10, Ct));
    }

    [Fact]
    public async Task A_receipt_per_thread_is_kept_beside_the_unthreaded_one()
    {
        await Store.Receipts.SetReceiptAsync(new NewReceipt(RoomA, "m.read", Bob, "$1", 1, TestEvents.Json(new { ts = 1 })), Ct);
        await Store.Receipts.SetReceiptAsync(new NewReceipt(RoomA, "m.read", Bob, "$2", 2, TestEvents.Json(new { ts = 2, thread_id = "$root" }), "$root"), Ct);
        await Store.Receipts.SetReceiptAsync(new NewReceipt(RoomA, "m.read", Bob, "$3", 3, TestEvents.Json(new { ts = 3, thread_id = "main" }), "main"), Ct);
        await Store.Receipts.SetReceiptAsync(new NewReceipt(RoomA, "m.read", Bob, "$4", 4, TestEvents.Json(new { ts = 4, thread_id = "$root" }), "$root"), Ct);

        Assert.Equal(["$1", "$4", "$3"], (await Store.Receipts.GetReceiptsAsync(RoomA, Ct)).Select(r => r.EventId));
    }
}
