using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>History fetched from other servers: stored below the event log, oldest at the most negative position, each event once.</summary>
public abstract class RoomBackfillStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string RemoteRoom = "!room:remote.example";

    private static BackfilledEvent Message(string eventId) =>
        new(eventId, "m.room.message", null, "@alice:remote.example", 1_000, null, false, """{"type":"m.room.message","content":{}}"""u8.ToArray());

    [Fact]
    public async Task Batches_continue_downwards_skip_known_events_and_read_in_both_directions()
    {
        Assert.Equal(new BackfillProgress(0, false), await Store.Backfill.GetProgressAsync(RemoteRoom, Ct));

        Assert.Equal(2, await Store.Backfill.AddOlderAsync(RemoteRoom, [Message("$c"), Message("$b")], complete: false, Ct));
        Assert.Equal(1, await Store.Backfill.AddOlderAsync(RemoteRoom, [Message("$b"), Message("$a")], complete: false, Ct));
        Assert.Equal(new BackfillProgress(-3, false), await Store.Backfill.GetProgressAsync(RemoteRoom, Ct));

        var newestFirst = await Store.Backfill.GetEventsAsync(RemoteRoom, 0, Direction.Backward, 10, Ct);
        Assert.Equal(["$c", "$b", "$a"], newestFirst.Select(e => e.EventId));
        Assert.Equal([-1L, -2L, -3L], newestFirst.Select(e => e.RoomPosition));
        Assert.All(newestFirst, e => Assert.Equal(0, e.GlobalPosition));
        Assert.Equal(["$b", "$c"], (await Store.Backfill.GetEventsAsync(RemoteRoom, -3, Direction.Forward, 10, Ct)).Select(e => e.EventId));
        Assert.Equal(["$a"], (await Store.Backfill.GetEventsAsync(RemoteRoom, -2, Direction.Backward, 10, Ct)).Select(e => e.EventId));

        Assert.Equal(-2, (await Store.Backfill.GetEventAsync(RemoteRoom, "$b", Ct))!.RoomPosition);
        Assert.Null(await Store.Backfill.GetEventAsync("!other:remote.example", "$b", Ct));
        Assert.Empty(await Store.Backfill.GetEventsAsync("!other:remote.example", 0, Direction.Backward, 10, Ct));
    }

    [Fact]
    public async Task Completion_is_kept_and_survives_reopening()
    {
        Assert.Equal(0, await Store.Backfill.AddOlderAsync(RemoteRoom, [], complete: true, Ct));
        await ReopenAsync();
        Assert.Equal(new BackfillProgress(0, true), await Store.Backfill.GetProgressAsync(RemoteRoom, Ct));
        Assert.False((await Store.Backfill.GetProgressAsync("!other:remote.example", Ct)).Complete);
    }
}
