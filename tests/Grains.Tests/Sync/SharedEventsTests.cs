using System.Text.Json.Nodes;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Sync.Json;
using HomeServer.Storage;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Sync;

public class SharedEventsTests
{
    private const long Now = 1_700_000_005_000;

    /// <summary>A room's history as the store returns it: joins, state changes with prev_content, messages with and without a transaction.</summary>
    private static List<StoredEvent> History()
    {
        var builder = PublicRoom();
        builder.Add(Join(Bob));
        builder.Add(new EventSpec("m.room.name", "", Alice, new JsonObject { ["name"] = "first" }));
        builder.Add(new EventSpec("m.room.name", "", Alice, new JsonObject { ["name"] = "second" }));
        builder.Add(Message(Alice, "from alice's phone") with { Transaction = new ClientTransactionInfo("PHONE", "txn-1") });
        builder.Add(Message(Bob, "from bob") with { Transaction = new ClientTransactionInfo("PHONE", "txn-2") });
        builder.Add(new EventSpec("m.room.message", null, Alice, new JsonObject { ["msgtype"] = "m.image", ["url"] = "mxc://test/abc", ["body"] = "é\u2028<>" }));
        return builder.Events.Select((planned, i) => new StoredEvent(RoomId, i + 1, 100 + i, planned.Pdu.EventId.Value, planned.Row.Type,
            planned.Row.StateKey, planned.Row.Sender, planned.Row.OriginServerTs, planned.Row.Membership, false, planned.Row.Json)).ToList();
    }

    private static byte[] Response(Action<JoinedRoomResult> fill, string viewer, string device)
    {
        var result = new SyncResult(new SyncToken(200, 0, 0, 1, 0));
        var room = new JoinedRoomResult(RoomId);
        fill(room);
        result.Joined.Add(room);
        return SyncResponseWriter.Write(result, viewer, device, Now).ToArray();
    }

    [Theory]
    [InlineData(Alice, "PHONE")]
    [InlineData(Alice, "LAPTOP")]
    [InlineData(Bob, "PHONE")]
    public void A_response_from_shared_events_is_byte_for_byte_the_one_the_store_path_writes(string viewer, string device)
    {
        var history = History();
        var shared = history.Select(SyncEventWriter.Share).ToList();
        var prevBatch = RoomStreamToken.Format(history[0].RoomPosition - 1);

        var fromStore = Response(room => room.Timeline = TimelineReader.Result(history, limited: false), viewer, device);
        var fromShared = Response(room => room.SharedTimeline = new SharedTimelineResult(shared, prevBatch), viewer, device);

        Assert.Equal(System.Text.Encoding.UTF8.GetString(fromStore), System.Text.Encoding.UTF8.GetString(fromShared));
        var events = JsonNode.Parse(fromShared)!["rooms"]!["join"]![RoomId]!["timeline"]!["events"]!.AsArray();
        Assert.Equal(history.Select(e => e.EventId), events.Select(e => (string)e!["event_id"]!));
        Assert.All(events, e => Assert.Null(e!["room_id"]));
        Assert.All(events, e => Assert.Null(e!["unsigned"]!["hs.transaction"]));
        Assert.All(events, e => Assert.Equal(Now - history[0].OriginServerTs, (long)e!["unsigned"]!["age"]!));
        var transactionIds = events.Select(e => (string?)e!["unsigned"]!["transaction_id"]).Where(t => t is not null).ToList();
        Assert.Equal(viewer == Alice && device == "PHONE" ? ["txn-1"] : viewer == Bob && device == "PHONE" ? ["txn-2"] : [], transactionIds);
        Assert.Equal("first", (string)events[^4]!["unsigned"]!["prev_content"]!["name"]!);
    }

    [Fact]
    public void A_shared_event_knows_what_filters_ask_without_its_json()
    {
        var history = History();
        var shared = history.Select(SyncEventWriter.Share).ToList();
        Assert.Equal(history.Select(e => (e.Type, e.Sender, e.StateKey, e.GlobalPosition)), shared.Select(e => (e.Type, e.Sender, e.StateKey, e.GlobalPosition)));
        Assert.True(shared[^1].ContentHasUrl);
        Assert.False(shared[^2].ContentHasUrl);
    }

    private static SharedEvent Event(long roomPosition, long globalPosition) =>
        new($"$e{globalPosition}", roomPosition, globalPosition, "m.room.message", null, Alice, 0, false, "{"u8.ToArray(), [], null, null);

    private static RoomFeedEvents Batch(string roomId, long previousRoomPosition, params (long Room, long Global)[] events) =>
        new(roomId, previousRoomPosition, events.Select(e => Event(e.Room, e.Global)).ToList());

    private static SyncToken Token(long events, params long[] delivered) =>
        new SyncToken(events, 0, 0, 1, 0) { Delivered = DeliveredEvents.None.With(delivered) };

    private static List<long>? News(FeedBuffer buffer, SyncToken since) =>
        buffer.NewsFor(since)?.SelectMany(room => room.Events).Select(e => e.GlobalPosition).Order().ToList();

    [Fact]
    public void News_are_the_events_above_the_token_not_yet_delivered_by_room_in_room_order()
    {
        var buffer = new FeedBuffer();
        buffer.Add(Batch("!a", 4, (5, 9)));
        buffer.Add(Batch("!b", 6, (7, 10)));
        buffer.Add(Batch("!a", 5, (6, 11), (7, 12)));
        buffer.Add(Batch("!b", 7, (8, 13)));
        buffer.Add(Batch("!a", 7, (8, 14)));

        Assert.Equal([11, 12, 13, 14], News(buffer, Token(10)));
        Assert.Equal([12, 14], News(buffer, Token(10, 11, 13)));
        Assert.Equal(["!a: 11 12 14", "!b: 13"],
            buffer.NewsFor(Token(10))!.Select(r => $"{r.RoomId}: {string.Join(' ', r.Events.Select(e => e.GlobalPosition))}"));
        Assert.True(buffer.HasNews(Token(13, 14)) is false);
        Assert.True(buffer.HasNews(Token(12, 14)));
    }

    [Fact]
    public void A_late_event_of_another_room_is_news_for_a_token_that_already_has_a_newer_one()
    {
        // Room B's event 11 arrives before room A's event 10; the token after 11 lists it, so 10 is still news.
        var buffer = new FeedBuffer();
        buffer.Add(Batch("!b", 0, (1, 11)));
        var afterB = Token(9, 11);
        Assert.Empty(News(buffer, afterB)!);
        buffer.Add(Batch("!a", 0, (1, 10)));
        Assert.Equal([10], News(buffer, afterB));
    }

    [Fact]
    public void Events_before_the_first_batch_of_a_room_may_be_missing()
    {
        var buffer = new FeedBuffer();
        buffer.Add(Batch("!a", 4, (5, 20)));
        Assert.Null(buffer.NewsFor(Token(18)));
        Assert.Equal([20], News(buffer, Token(19)));
    }

    [Fact]
    public void A_batch_that_does_not_follow_the_previous_one_marks_a_gap_and_a_stale_one_is_ignored()
    {
        var buffer = new FeedBuffer();
        buffer.Add(Batch("!a", 0, (1, 10)));
        buffer.Add(Batch("!a", 2, (3, 30)));
        Assert.Null(buffer.NewsFor(Token(10)));
        Assert.Equal([30], News(buffer, Token(29)));

        buffer.Add(Batch("!a", 1, (2, 20)));
        Assert.Equal([30], News(buffer, Token(29)));
        Assert.Null(buffer.NewsFor(Token(19)));
    }

    [Fact]
    public void Evicted_events_make_older_tokens_read_the_store()
    {
        var buffer = new FeedBuffer();
        var count = FeedBuffer.MaxEventsPerRoom + 5;
        for (var i = 1; i <= count; i++) buffer.Add(Batch("!a", i - 1, (i, 1000 + i)));

        Assert.Null(buffer.NewsFor(Token(1000)));
        Assert.Null(buffer.NewsFor(Token(1004)));
        Assert.Equal(FeedBuffer.MaxEventsPerRoom, News(buffer, Token(1005))!.Count);
    }
}
