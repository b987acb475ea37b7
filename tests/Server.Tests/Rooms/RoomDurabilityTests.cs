using System.Text.Json;
using HomeServer.Grains.Rooms;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>A restarted server on the same data continues every room exactly where it was.</summary>
public abstract class RoomDurabilityTests : IAsyncLifetime
{
    private StoreBackend _backend = null!;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    public async Task InitializeAsync() => _backend = await CreateBackendAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task State_timeline_transactions_and_redactions_survive_a_restart_and_sending_continues_in_order()
    {
        TestUser alice, bob;
        string roomId, redacted, lastBefore;
        var sent = new List<string>();
        long typingSerialBefore;
        await using (var first = await _backend.StartServerAsync())
        {
            alice = await TestUsers.CreateAsync(first, "alice");
            bob = await TestUsers.CreateAsync(first, "bob");
            var a = new RoomsClient(first.Client, alice);
            var b = new RoomsClient(first.Client, bob);
            roomId = await a.CreateRoomAsync(new { preset = "public_chat", name = "durable" });
            await b.JoinAsync(roomId);
            for (var i = 0; i < 5; i++) sent.Add(await a.SendAsync(roomId, new { msgtype = "m.text", body = $"m{i}" }, txnId: $"t{i}"));
            redacted = await b.SendTextAsync(roomId, "to be redacted");
            await b.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/redact/{RoomsClient.Escape(redacted)}/r", new { });
            await a.SetStateAsync(roomId, "m.room.topic", new { topic = "kept" });
            await a.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/typing/{RoomsClient.Escape(alice.UserId)}", new { typing = true });
            typingSerialBefore = (await first.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IRoomGrain>(roomId).GetTypingAsync()).Serial;
            lastBefore = (await a.MessagesAsync(roomId, "dir=b&limit=1")).GetProperty("chunk")[0].GetProperty("event_id").GetString()!;
        }

        await using var second = await _backend.StartServerAsync();
        var alice2 = new RoomsClient(second.Client, alice);
        var bob2 = new RoomsClient(second.Client, bob);

        Assert.Equal("durable", (await bob2.GetStateEventAsync(roomId, "m.room.name")).GetProperty("name").GetString());
        Assert.Equal("kept", (await bob2.GetStateEventAsync(roomId, "m.room.topic")).GetProperty("topic").GetString());
        Assert.Contains(roomId, (await bob2.OkAsync(HttpMethod.Get, "/joined_rooms")).GetProperty("joined_rooms").EnumerateArray().Select(r => r.GetString()));
        Assert.Empty((await alice2.GetEventAsync(roomId, redacted)).GetProperty("content").EnumerateObject());
        Assert.Equal(sent[2], await alice2.SendAsync(roomId, new { msgtype = "m.text", body = "m2" }, txnId: "t2"));
        var typing = await second.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IRoomGrain>(roomId).GetTypingAsync();
        Assert.True(typing.Serial > typingSerialBefore);

        var next = await bob2.SendTextAsync(roomId, "after restart");

        var timeline = (await alice2.MessagesAsync(roomId, "dir=f&limit=100&filter=" + RoomsClient.Escape("{\"types\":[\"m.room.message\"]}"))).GetProperty("chunk");
        Assert.Equal([.. sent, redacted, next], timeline.EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!));
        var store = second.App.Services.GetRequiredService<IHomeServerStore>();
        var before = await store.Events.GetEventAsync(lastBefore, CancellationToken.None);
        var after = await store.Events.GetEventAsync(next, CancellationToken.None);
        Assert.Equal(before!.RoomPosition + 1, after!.RoomPosition);
        using var beforeJson = JsonDocument.Parse(before.Json);
        using var afterJson = JsonDocument.Parse(after.Json);
        Assert.Equal([lastBefore], afterJson.RootElement.GetProperty("prev_events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(beforeJson.RootElement.GetProperty("depth").GetInt64() + 1, afterJson.RootElement.GetProperty("depth").GetInt64());
    }

    [Fact]
    public async Task Aliases_publication_and_forgotten_rooms_survive_a_restart()
    {
        TestUser alice, bob;
        string roomId;
        var alias = $"#durable{Guid.NewGuid():N}:localhost";
        await using (var first = await _backend.StartServerAsync())
        {
            alice = await TestUsers.CreateAsync(first, "alice");
            bob = await TestUsers.CreateAsync(first, "bob");
            var a = new RoomsClient(first.Client, alice);
            var b = new RoomsClient(first.Client, bob);
            roomId = await a.CreateRoomAsync(new { preset = "public_chat", visibility = "public", room_alias_name = alias[1..^":localhost".Length] });
            await b.JoinAsync(roomId);
            await b.LeaveAsync(roomId);
            await b.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/forget", new { });
        }

        await using var second = await _backend.StartServerAsync();
        var alice2 = new RoomsClient(second.Client, alice);
        var bob2 = new RoomsClient(second.Client, bob);

        Assert.Equal(roomId, (await bob2.OkAsync(HttpMethod.Get, $"/directory/room/{RoomsClient.Escape(alias)}")).GetProperty("room_id").GetString());
        Assert.Equal("public", (await alice2.OkAsync(HttpMethod.Get, $"/directory/list/room/{RoomsClient.Escape(roomId)}")).GetProperty("visibility").GetString());
        await bob2.FailsAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/messages?dir=b", null, System.Net.HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("3")]
    public async Task Rooms_of_old_versions_continue_after_a_restart_citing_their_last_event(string version)
    {
        TestUser alice;
        string roomId, lastBefore;
        await using (var first = await _backend.StartServerAsync())
        {
            alice = await TestUsers.CreateAsync(first, "alice");
            var a = new RoomsClient(first.Client, alice);
            roomId = await a.CreateRoomAsync(new { room_version = version });
            lastBefore = await a.SendTextAsync(roomId, "before");
        }

        await using var second = await _backend.StartServerAsync();
        var alice2 = new RoomsClient(second.Client, alice);
        var after = await alice2.SendTextAsync(roomId, "after");

        // In v1/v2 prev_events holds [id, {"sha256": hash}] pairs, so the reloaded room must know the last event's hash.
        var stored = await second.App.Services.GetRequiredService<IHomeServerStore>().Events.GetLatestEventsAsync(roomId, 2, CancellationToken.None);
        var newest = stored.Single(e => e.EventId == after);
        var previous = stored.Single(e => e.EventId == lastBefore);
        var prevEvents = JsonDocument.Parse(newest.Json).RootElement.GetProperty("prev_events");
        if (version == "1")
        {
            Assert.Equal(lastBefore, prevEvents[0][0].GetString());
            var previousHash = JsonDocument.Parse(previous.Json).RootElement.GetProperty("hashes").GetProperty("sha256").GetString();
            Assert.Equal(previousHash, prevEvents[0][1].GetProperty("sha256").GetString());
        }
        else
        {
            Assert.Equal(lastBefore, prevEvents[0].GetString());
        }
    }
}

public sealed class SqliteRoomDurabilityTests : RoomDurabilityTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRoomDurabilityTests : RoomDurabilityTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
