using System.Text.Json;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;

namespace HomeServer.Grains.Tests.Sync;

/// <summary>The sync grain's timelines under each history visibility, for a member who was invited and joined late, and one who left.</summary>
public sealed class SyncHistoryVisibilityTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly string Bob = Server.UserId("bob");
    private const string Filter = """{"room":{"timeline":{"limit":50,"types":["m.room.message"]},"include_leave":true}}""";

    [Theory]
    [InlineData(StoreBackend.Sqlite, "world_readable", "before,invited,after")]
    [InlineData(StoreBackend.Sqlite, "shared", "before,invited,after")]
    [InlineData(StoreBackend.Sqlite, "invited", "invited,after")]
    [InlineData(StoreBackend.Sqlite, "joined", "after")]
    [InlineData(StoreBackend.Postgres, "world_readable", "before,invited,after")]
    [InlineData(StoreBackend.Postgres, "shared", "before,invited,after")]
    [InlineData(StoreBackend.Postgres, "invited", "invited,after")]
    [InlineData(StoreBackend.Postgres, "joined", "after")]
    public async Task A_late_member_sees_what_the_visibility_allows_and_a_former_member_only_up_to_the_leave(StoreBackend backend, string visibility, string expected)
    {
        await using var store = await TestStore.OpenAsync(backend);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var room = cluster.Grains.GetGrain<IRoomGrain>("!visibility:test");
        await room.CreateAsync(new CreateRoomRequest(Alice)
        {
            Preset = "public_chat",
            InitialState = [new InitialStateEvent("m.room.history_visibility", "", JsonSerializer.SerializeToElement(new { history_visibility = visibility }))],
        });
        await SendAsync(room, "before");
        await room.InviteAsync(new MembershipRequest(Alice, Bob, null));
        await SendAsync(room, "invited");
        await room.JoinAsync(Bob, null);
        await SendAsync(room, "after");

        Assert.Equal(expected.Split(','), await TimelineAsync(cluster, "join"));

        await room.LeaveAsync(Bob, null);
        await SendAsync(room, "gone");
        Assert.Equal(expected.Split(','), await TimelineAsync(cluster, "leave"));
    }

    private static async Task<List<string>> TimelineAsync(GrainTestCluster cluster, string section)
    {
        var response = await cluster.Grains.GetGrain<ISyncGrain>(Bob).SyncAsync(new SyncRequest("DEVICE", null, Filter, false, TimeSpan.Zero), CancellationToken.None);
        using var document = JsonDocument.Parse(response.Body.ToArray());
        return document.RootElement.GetProperty("rooms").GetProperty(section).GetProperty("!visibility:test").GetProperty("timeline")
            .GetProperty("events").EnumerateArray().Select(e => e.GetProperty("content").GetProperty("body").GetString()!).ToList();
    }

    private static Task SendAsync(IRoomGrain room, string body) =>
        room.SendMessageAsync(new MessageRequest(Alice, "DEVICE", "m.room.message",
            JsonSerializer.SerializeToElement(new { msgtype = "m.text", body }), Guid.NewGuid().ToString("N")));
}
