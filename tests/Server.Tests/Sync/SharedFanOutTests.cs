using System.Text.Json;
using HomeServer.Grains.Delivery;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Sync;

/// <summary>The meter is process-wide: these tests count it alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SyncMeterCollection
{
    public const string Name = "Sync meter";
}

/// <summary>
/// One room, 200 clients long-polling /sync through real HTTP, a few senders: every client receives every message
/// exactly once and in the room's order, never in a limited timeline; the counters show what the delivery cost.
/// </summary>
[Collection(SyncMeterCollection.Name)]
public abstract class SharedFanOutTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Clients = 200;
    private const int Senders = 3;
    // More in all than a token lists as delivered, so every client also gets store responses that must skip them.
    private const int MessagesPerSender = 20;
    private const string Filter = """{"room":{"timeline":{"limit":100}}}""";

    private StoreBackend _backend = null!;
    private RunningServer _server = null!;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    protected abstract SyncDeliveryMode Mode { get; }

    public async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync();
        _server = await RunningServer.StartAsync([.. _backend.ServerArguments, $"--SyncDelivery:Mode={Mode}"]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Every_client_receives_every_message_exactly_once_and_in_order()
    {
        var senders = await UsersAsync("sender", Senders);
        var clients = await UsersAsync("client", Clients);
        var roomId = await senders[0].CreateRoomAsync(new { preset = "public_chat" });
        foreach (var user in senders.Skip(1).Concat(clients)) await user.JoinAsync(roomId);
        var tokens = await Task.WhenAll(clients.Select(client => InitialTokenAsync(client, roomId)));

        using var meter = new SyncMeterRecorder();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var expected = Senders * MessagesPerSender;
        var receiving = clients.Select((client, i) => ReceiveAsync(client, roomId, tokens[i], expected, deadline.Token)).ToList();
        await Task.WhenAll(senders.Select((sender, s) => SendAsync(sender, roomId, s)));
        var received = await Task.WhenAll(receiving);
        cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        clock.Stop();

        var roomOrder = await MessagesInRoomOrderAsync(roomId);
        Assert.Equal(expected, roomOrder.Count);
        foreach (var messages in received) Assert.Equal(roomOrder, messages);

        var servedShared = meter.Total(SyncMetrics.SharedResponses);
        var servedFromStore = meter.Total(SyncMetrics.StoreResponses);
        output.WriteLine($"{Mode}: {expected} messages to {Clients} clients; serialised by rooms {meter.Total(SyncMetrics.EventsSerialised, "room")}, " +
            $"per reader {meter.Total(SyncMetrics.EventsSerialised, "store")}; fan-out messages {meter.Total(SyncMetrics.FanOutMessages)} " +
            $"for {meter.Total(SyncMetrics.FanOutBatches)} batches; responses from shared bytes {servedShared}, from the store {servedFromStore}; " +
            $"{clock.Elapsed.TotalSeconds:0.0} s, process CPU {cpu.TotalSeconds:0.0} s (clients included)");
        if (Mode == SyncDeliveryMode.Shared)
        {
            Assert.Equal(expected, meter.Total(SyncMetrics.EventsSerialised, "room"));
            // One silo: one message per committed batch, however many members.
            Assert.Equal(meter.Total(SyncMetrics.FanOutBatches), meter.Total(SyncMetrics.FanOutMessages));
            Assert.InRange(meter.Total(SyncMetrics.FanOutBatches), 1, expected);
            Assert.True(servedShared >= 3 * servedFromStore, $"{servedShared} responses from shared bytes, {servedFromStore} from the store");
        }
        else
        {
            Assert.Equal(0, meter.Total(SyncMetrics.EventsSerialised, "room"));
            Assert.Equal(0, servedShared);
            Assert.True(meter.Total(SyncMetrics.FanOutMessages) >= meter.Total(SyncMetrics.FanOutBatches) * Clients);
            Assert.True(meter.Total(SyncMetrics.EventsSerialised, "store") >= (long)expected * Clients);
        }
        Assert.Equal(0, meter.Total(SyncMetrics.ParkedLongPolls));
    }

    private async Task<List<RoomsClient>> UsersAsync(string name, int count)
    {
        var users = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => TestUsers.CreateAsync(_server, name)));
        return users.Select(user => new RoomsClient(_server.Client, user)).ToList();
    }

    private async Task<string> InitialTokenAsync(RoomsClient client, string roomId)
    {
        var sync = await SyncAsync(client, since: null, CancellationToken.None);
        Assert.True(sync.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out _));
        return sync.GetProperty("next_batch").GetString()!;
    }

    private static async Task SendAsync(RoomsClient sender, string roomId, int senderIndex)
    {
        for (var i = 0; i < MessagesPerSender; i++) await sender.SendTextAsync(roomId, $"sender {senderIndex} message {i}");
    }

    /// <summary>Long-polls until <paramref name="expected"/> messages arrived and returns their event ids in arrival order.</summary>
    private async Task<List<string>> ReceiveAsync(RoomsClient client, string roomId, string since, int expected, CancellationToken cancellationToken)
    {
        var messages = new List<string>();
        while (messages.Count < expected)
        {
            var sync = await SyncAsync(client, since, cancellationToken);
            since = sync.GetProperty("next_batch").GetString()!;
            if (!sync.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out var room)) continue;
            var timeline = room.GetProperty("timeline");
            Assert.False(timeline.GetProperty("limited").GetBoolean(), $"{client.UserId} got a limited timeline");
            messages.AddRange(timeline.GetProperty("events").EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() == "m.room.message")
                .Select(e => e.GetProperty("event_id").GetString()!));
        }
        return messages;
    }

    private async Task<JsonElement> SyncAsync(RoomsClient client, string? since, CancellationToken cancellationToken)
    {
        var query = $"filter={Uri.EscapeDataString(Filter)}" + (since is null ? "" : $"&since={Uri.EscapeDataString(since)}&timeout=30000");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_matrix/client/v3/sync?" + query);
        request.Headers.Authorization = new("Bearer", client.User.AccessToken);
        using var response = await _server.Client.SendAsync(request, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"sync: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return await response.ReadJsonAsync();
    }

    private async Task<List<string>> MessagesInRoomOrderAsync(string roomId)
    {
        var store = _server.App.Services.GetRequiredService<IHomeServerStore>();
        var events = await store.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None);
        return events.Where(e => e.Type == "m.room.message").Select(e => e.EventId).ToList();
    }
}

public sealed class SqliteSharedFanOutTests(ITestOutputHelper output) : SharedFanOutTests(output)
{
    protected override SyncDeliveryMode Mode => SyncDeliveryMode.Shared;
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSharedFanOutTests(ITestOutputHelper output) : SharedFanOutTests(output)
{
    protected override SyncDeliveryMode Mode => SyncDeliveryMode.Shared;
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

public sealed class SqliteNaiveFanOutTests(ITestOutputHelper output) : SharedFanOutTests(output)
{
    protected override SyncDeliveryMode Mode => SyncDeliveryMode.Naive;
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresNaiveFanOutTests(ITestOutputHelper output) : SharedFanOutTests(output)
{
    protected override SyncDeliveryMode Mode => SyncDeliveryMode.Naive;
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
