using System.Text.Json;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>
/// The room grain's /messages from a sync token: the token's global position (and the events it lists as delivered
/// above it) is turned into the room's own position, whatever other rooms wrote in between.
/// </summary>
public sealed class MessagesTokenGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly Reader AliceReads = new(Alice, "DEVICE");

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_sync_token_names_the_point_after_the_last_event_of_the_room_it_covers(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var room = cluster.Grains.GetGrain<IRoomGrain>("!a:test");
        var other = cluster.Grains.GetGrain<IRoomGrain>("!b:test");
        await room.CreateAsync(new CreateRoomRequest(Alice));
        await other.CreateAsync(new CreateRoomRequest(Alice));
        await SendAsync(room, "a1");
        await SendAsync(other, "b1");
        await SendAsync(room, "a2");
        await SendAsync(other, "b2");
        await SendAsync(room, "a3");
        var events = await store.Store.Events.GetRoomEventsAsync("!a:test", 0, Direction.Forward, 100, CancellationToken.None);
        var a1 = events.Single(e => Body(e) == "a1");
        var a2 = events.Single(e => Body(e) == "a2");
        var a3 = events.Single(e => Body(e) == "a3");

        Assert.Equal(["a2", "a3"], await ForwardAsync(room, Token(a1.GlobalPosition)));
        Assert.Equal(["a3"], await ForwardAsync(room, Token(a2.GlobalPosition)));
        // Delivered events above the position count only while the room's events follow on without a gap.
        Assert.Equal(["a3"], await ForwardAsync(room, Token(a1.GlobalPosition, a2.GlobalPosition)));
        Assert.Equal(["a2", "a3"], await ForwardAsync(room, Token(a1.GlobalPosition, a3.GlobalPosition)));
        Assert.Empty(await ForwardAsync(room, Token(a1.GlobalPosition, a2.GlobalPosition, a3.GlobalPosition)));
        Assert.Empty(await ForwardAsync(room, Token(a3.GlobalPosition + 100)));
        Assert.Equal(["a2", "a1"], await BackwardAsync(room, Token(a2.GlobalPosition + 1)));
    }

    private static string Token(long events, params long[] delivered) =>
        new SyncToken(events, 0, 0, 1, 0) { Delivered = DeliveredEvents.None.With(delivered) }.ToString();

    private static Task SendAsync(IRoomGrain room, string body) =>
        room.SendMessageAsync(new MessageRequest(Alice, "DEVICE", "m.room.message",
            JsonSerializer.SerializeToElement(new { msgtype = "m.text", body }), Guid.NewGuid().ToString("N")));

    private static string? Body(StoredEvent e)
    {
        using var document = JsonDocument.Parse(e.Json);
        return document.RootElement.GetProperty("content").TryGetProperty("body", out var body) ? body.GetString() : null;
    }

    private static Task<List<string>> ForwardAsync(IRoomGrain room, string from) => PageAsync(room, from, forward: true);

    private static Task<List<string>> BackwardAsync(IRoomGrain room, string from) => PageAsync(room, from, forward: false);

    private static async Task<List<string>> PageAsync(IRoomGrain room, string from, bool forward)
    {
        var filter = new RoomEventFilter { Types = ["m.room.message"] };
        var json = await room.GetMessagesAsync(AliceReads, new MessagesQuery(from, null, forward, 100, filter));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("chunk").EnumerateArray()
            .Select(e => e.GetProperty("content").GetProperty("body").GetString()!).ToList();
    }
}
