using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Delivery;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.ToDevice;

/// <summary>
/// To-device messages next to shared room events: a parked /sync woken by a to-device message reads only the device's
/// inbox (no whole store read), and room messages and to-device messages interleaved all arrive once and in order.
/// </summary>
[Collection(SyncMeterCollection.Name)]
public abstract class ToDeviceSharedPathTests : SyncTestBase
{
    private static async Task SendToDeviceAsync(SyncUser sender, string txn, string userId, string deviceId, long n)
    {
        using var response = await sender.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/sendToDevice/m.test/{txn}",
            new JsonObject { ["messages"] = new JsonObject { [userId] = new JsonObject { [deviceId] = new JsonObject { ["n"] = n } } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static List<long> ToDevice(JsonElement sync) =>
        sync.GetProperty("to_device").GetProperty("events").EnumerateArray().Select(e => e.GetProperty("content").GetProperty("n").GetInt64()).ToList();

    [Fact]
    public async Task To_device_and_room_messages_interleave_without_a_store_read_and_arrive_once_in_order()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var token = NextBatch(await alice.SyncAsync());
        // Settle the token past the join and the presence of the initial sync.
        for (var i = 0; i < 3; i++) token = NextBatch(await alice.SyncSinceAsync(token, "timeout=300"));

        using var meter = new SyncMeterRecorder();
        await SendToDeviceAsync(bob, "t1", alice.UserId, alice.DeviceId, 1);
        var first = await alice.SyncSinceAsync(token, "timeout=5000&set_presence=offline");
        Assert.Equal([1L], ToDevice(first));
        Assert.Equal(0, meter.Total(SyncMetrics.StoreResponses));
        Assert.True(meter.Total(SyncMetrics.SharedResponses) > 0);
        token = NextBatch(first);

        var bodies = new List<string>();
        var messages = new List<long>();
        var receiving = Task.Run(async () =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((bodies.Count < 3 || messages.Count < 3) && DateTime.UtcNow < deadline)
            {
                var sync = await alice.SyncSinceAsync(token, "timeout=2000&set_presence=offline");
                token = NextBatch(sync);
                messages.AddRange(ToDevice(sync));
                if (HasJoined(sync, roomId)) bodies.AddRange(Bodies(Joined(sync, roomId)));
            }
        });
        for (var n = 2; n <= 4; n++)
        {
            await bob.Rooms.SendTextAsync(roomId, $"text{n}");
            await SendToDeviceAsync(bob, $"t{n}", alice.UserId, alice.DeviceId, n);
        }
        await receiving;

        Assert.Equal(["text2", "text3", "text4"], bodies);
        Assert.Equal([2L, 3L, 4L], messages);
        Assert.Empty(ToDevice(await alice.SyncSinceAsync(token, "timeout=0")));
    }
}

public sealed class SqliteToDeviceSharedPathTests : ToDeviceSharedPathTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresToDeviceSharedPathTests : ToDeviceSharedPathTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
