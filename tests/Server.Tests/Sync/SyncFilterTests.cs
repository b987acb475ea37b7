using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

public abstract class SyncFilterTests : SyncTestBase
{
    private static string Inline(string json) => "filter=" + Uri.EscapeDataString(json);

    [Fact]
    public async Task A_stored_filter_applies_its_timeline_limit_and_types()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 4);
        var filterId = await alice.CreateFilterAsync(JsonNode.Parse("{\"room\":{\"timeline\":{\"limit\":3,\"types\":[\"m.room.*\"],\"not_types\":[\"m.room.member\"]}}}")!);

        var sync = await alice.SyncAsync("filter=" + filterId);

        var events = Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(3, events.Count);
        Assert.All(events, e => Assert.Equal("m.room.message", e.GetProperty("type").GetString()));
        Assert.True(Timeline(Joined(sync, roomId)).GetProperty("limited").GetBoolean());
    }

    [Fact]
    public async Task Senders_and_not_senders_select_timeline_events()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await Rooms.SetMembershipAsync(roomId, bob.UserId, bob.UserId, "join");
        var start = await alice.SyncAsync();
        await Rooms.SendMessageAsync(roomId, alice.UserId, "from alice");
        await Rooms.SendMessageAsync(roomId, bob.UserId, "from bob");

        var onlyBob = await alice.SyncSinceAsync(NextBatch(start), Inline($"{{\"room\":{{\"timeline\":{{\"senders\":[\"{bob.UserId}\"]}}}}}}"));
        var notBob = await alice.SyncSinceAsync(NextBatch(start), Inline($"{{\"room\":{{\"timeline\":{{\"not_senders\":[\"{bob.UserId}\"]}}}}}}"));

        Assert.Equal(["from bob"], Bodies(Joined(onlyBob, roomId)));
        Assert.Equal(["from alice"], Bodies(Joined(notBob, roomId)));
    }

    [Fact]
    public async Task Room_lists_leave_out_rooms_everywhere()
    {
        var alice = await RegisterAsync("alice");
        var wanted = await Rooms.CreateRoomAsync(alice.UserId);
        var unwanted = await Rooms.CreateRoomAsync(alice.UserId);

        var included = await alice.SyncAsync(Inline($"{{\"room\":{{\"rooms\":[\"{wanted}\"]}}}}"));
        var excluded = await alice.SyncAsync(Inline($"{{\"room\":{{\"not_rooms\":[\"{wanted}\"]}}}}"));

        Assert.True(HasJoined(included, wanted));
        Assert.False(HasJoined(included, unwanted));
        Assert.False(HasJoined(excluded, wanted));
        Assert.True(HasJoined(excluded, unwanted));
    }

    [Fact]
    public async Task State_and_account_data_filters_and_empty_ephemeral_types()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId, name: "Named");
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 12);
        await alice.SetAccountDataAsync("org.example.keep", new JsonObject { ["a"] = 1 });
        await alice.SetAccountDataAsync("org.example.drop", new JsonObject { ["b"] = 2 });

        var sync = await alice.SyncAsync(Inline(
            "{\"account_data\":{\"not_types\":[\"org.example.drop\"]},\"room\":{\"state\":{\"types\":[\"m.room.name\"]}}}"));

        Assert.Equal([("m.room.name", "")], StateKeys(Joined(sync, roomId)));
        var types = sync.GetProperty("account_data").GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Contains("org.example.keep", types);
        Assert.DoesNotContain("org.example.drop", types);
    }
}

public sealed class SqliteSyncFilterTests : SyncFilterTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncFilterTests : SyncFilterTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
