using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// GET /rooms/{roomId}/messages with the tokens /sync hands out (message_pagination.yaml: "from … can be obtained from
/// a prev_batch or next_batch token returned by the /sync endpoint"), in both directions, and without 'from'.
/// </summary>
public abstract class MessagesTokenTests : SyncTestBase
{
    private static readonly string MessagesOnly = "filter=" + Uri.EscapeDataString("{\"types\":[\"m.room.message\"]}");
    private static readonly string LimitThree = "filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":3,\"types\":[\"m.room.message\"]}}}");

    private static List<string> ChunkBodies(JsonElement page) =>
        page.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("content").GetProperty("body").GetString()!).ToList();

    private static async Task<(SyncUser User, string RoomId, List<string> Bodies)> RoomWithMessagesAsync(Func<string, Task<SyncUser>> register, int count)
    {
        var alice = await register("alice");
        var roomId = await alice.Rooms.CreateRoomAsync();
        var bodies = Enumerable.Range(1, count).Select(i => $"m{i}").ToList();
        foreach (var body in bodies) await alice.Rooms.SendTextAsync(roomId, body);
        return (alice, roomId, bodies);
    }

    [Fact]
    public async Task Paging_back_from_prev_batch_returns_exactly_the_messages_before_the_timeline()
    {
        var (alice, roomId, bodies) = await RoomWithMessagesAsync(RegisterAsync, 10);

        var sync = await alice.SyncAsync(LimitThree);
        var timeline = Timeline(Joined(sync, roomId));
        Assert.Equal(["m8", "m9", "m10"], Bodies(Joined(sync, roomId)));
        var prevBatch = timeline.GetProperty("prev_batch").GetString()!;

        var back = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=4&from={Uri.EscapeDataString(prevBatch)}&{MessagesOnly}");
        Assert.Equal(prevBatch, back.GetProperty("start").GetString());
        Assert.Equal(["m7", "m6", "m5", "m4"], ChunkBodies(back));
        var rest = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=100&from={Uri.EscapeDataString(back.GetProperty("end").GetString()!)}&{MessagesOnly}");
        Assert.Equal(["m3", "m2", "m1"], ChunkBodies(rest));
        Assert.False(rest.TryGetProperty("end", out _), "no more events: end is omitted");

        var forward = await alice.Rooms.MessagesAsync(roomId, $"dir=f&limit=100&from={Uri.EscapeDataString(prevBatch)}&{MessagesOnly}");
        Assert.Equal(["m8", "m9", "m10"], ChunkBodies(forward));
        Assert.False(forward.TryGetProperty("end", out _));
    }

    [Fact]
    public async Task Next_batch_is_a_valid_from_in_both_directions()
    {
        var (alice, roomId, _) = await RoomWithMessagesAsync(RegisterAsync, 5);
        var sync = await alice.SyncAsync(LimitThree);
        var nextBatch = NextBatch(sync);

        var back = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=100&from={Uri.EscapeDataString(nextBatch)}&{MessagesOnly}");
        Assert.Equal(nextBatch, back.GetProperty("start").GetString());
        Assert.Equal(["m5", "m4", "m3", "m2", "m1"], ChunkBodies(back));

        var nothingYet = await alice.Rooms.MessagesAsync(roomId, $"dir=f&from={Uri.EscapeDataString(nextBatch)}");
        Assert.Empty(nothingYet.GetProperty("chunk").EnumerateArray());
        Assert.False(nothingYet.TryGetProperty("end", out _));

        await alice.Rooms.SendTextAsync(roomId, "m6");
        await alice.Rooms.SendTextAsync(roomId, "m7");
        var forward = await alice.Rooms.MessagesAsync(roomId, $"dir=f&limit=100&from={Uri.EscapeDataString(nextBatch)}");
        Assert.Equal(["m6", "m7"], ChunkBodies(forward));
        var incremental = await alice.SyncSinceAsync(nextBatch, LimitThree);
        Assert.Equal(ChunkBodies(forward), Bodies(Joined(incremental, roomId)));

        var sinceThen = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=100&to={Uri.EscapeDataString(nextBatch)}");
        Assert.Equal(["m7", "m6"], ChunkBodies(sinceThen));
    }

    [Fact]
    public async Task A_next_batch_issued_after_events_of_other_rooms_points_at_this_rooms_last_event()
    {
        var (alice, roomId, _) = await RoomWithMessagesAsync(RegisterAsync, 3);
        var otherRoom = await alice.Rooms.CreateRoomAsync();
        await alice.Rooms.SendTextAsync(otherRoom, "elsewhere");
        var nextBatch = NextBatch(await alice.SyncAsync(LimitThree));
        await alice.Rooms.SendTextAsync(roomId, "m4");

        var forward = await alice.Rooms.MessagesAsync(roomId, $"dir=f&limit=100&from={Uri.EscapeDataString(nextBatch)}");
        var back = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=2&from={Uri.EscapeDataString(nextBatch)}&{MessagesOnly}");

        Assert.Equal(["m4"], ChunkBodies(forward));
        Assert.Equal(["m3", "m2"], ChunkBodies(back));
    }

    [Fact]
    public async Task Without_from_backwards_starts_at_the_newest_event_and_forwards_at_the_first()
    {
        var (alice, roomId, _) = await RoomWithMessagesAsync(RegisterAsync, 3);

        var back = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=2&{MessagesOnly}");
        var forward = await alice.Rooms.MessagesAsync(roomId, "dir=f&limit=1");

        Assert.Equal(["m3", "m2"], ChunkBodies(back));
        Assert.True(back.TryGetProperty("end", out _));
        Assert.Equal("m.room.create", forward.GetProperty("chunk")[0].GetProperty("type").GetString());
        var next = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=10&from={Uri.EscapeDataString(back.GetProperty("end").GetString()!)}&{MessagesOnly}");
        Assert.Equal(["m1"], ChunkBodies(next));
    }

    [Theory]
    [InlineData("from", "nonsense")]
    [InlineData("from", "t-1")]
    [InlineData("from", "s1_2")]
    [InlineData("to", "x12")]
    [InlineData("to", "s01_0_0_0.0")]
    public async Task A_token_of_neither_kind_is_M_INVALID_PARAM(string parameter, string token)
    {
        var (alice, roomId, _) = await RoomWithMessagesAsync(RegisterAsync, 1);

        var response = await alice.GetAsync($"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/messages?dir=b&{parameter}={Uri.EscapeDataString(token)}");

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }
}

public sealed class SqliteMessagesTokenTests : MessagesTokenTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresMessagesTokenTests : MessagesTokenTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
