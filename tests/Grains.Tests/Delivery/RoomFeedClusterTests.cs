using System.Collections.Concurrent;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Sync.Json;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.Delivery;

/// <summary>Stands in for the sync grain and keeps every batch of shared events it receives.</summary>
[GrainType("sync")]
public sealed class ReceivingSyncGrain(ReceivedFeeds received, LocalSyncGrains local) : HomeServerGrain, ISyncGrain, ILocalFeedReceiver
{
    protected override Task ActivateAsync(CancellationToken cancellationToken)
    {
        local.Add(Key, this);
        return Task.CompletedTask;
    }

    public Task NotifyAsync(SyncNotice notice)
    {
        received.Add(Key, notice);
        return Task.CompletedTask;
    }

    public Task ReceiveAsync(RoomFeedEvents events)
    {
        received.Add(Key, events);
        return Task.CompletedTask;
    }

    void ILocalFeedReceiver.Receive(RoomFeedEvents events) => ReceiveAsync(events);

    void ILocalFeedReceiver.Notify(SyncNotice notice) => NotifyAsync(notice);

    public Task<SyncResponse> SyncAsync(SyncRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This stand-in only receives shared events.");
}

public sealed class ReceivedFeeds
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<RoomFeedEvents>> _byUser = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<SyncNotice>> _notices = new();

    public void Add(string userId, RoomFeedEvents events) => _byUser.GetOrAdd(userId, _ => new()).Enqueue(events);

    public void Add(string userId, SyncNotice notice) => _notices.GetOrAdd(userId, _ => new()).Enqueue(notice);

    public IReadOnlyList<RoomFeedEvents> Of(string userId) => _byUser.TryGetValue(userId, out var feeds) ? feeds.ToArray() : [];

    public IReadOnlyList<SyncNotice> NoticesOf(string userId) => _notices.TryGetValue(userId, out var notices) ? notices.ToArray() : [];
}

/// <summary>A room's fan-out over three silos: one message per active silo, the same bytes at every reader, nobody woken.</summary>
public sealed class RoomFeedClusterTests
{
    private static readonly LocalServer Server = new("test");

    private static StoredEvent Message(long position, string body)
    {
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["content"] = new System.Text.Json.Nodes.JsonObject { ["body"] = body, ["msgtype"] = "m.text" },
            ["origin_server_ts"] = 1_700_000_000_000,
            ["sender"] = "@sender:test",
            ["type"] = "m.room.message",
            ["unsigned"] = new System.Text.Json.Nodes.JsonObject
            {
                ["hs.transaction"] = new System.Text.Json.Nodes.JsonObject { ["device_id"] = "D", ["txn_id"] = $"t{position}" },
            },
        };
        return new StoredEvent("!room:test", position, 1000 + position, $"$event{position}", "m.room.message", null, "@sender:test",
            1_700_000_000_000, null, false, System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    [Fact]
    public async Task A_batch_goes_once_to_each_silo_and_reaches_only_the_running_sync_grains_of_members()
    {
        var received = new ReceivedFeeds();
        await using var cluster = await GrainTestCluster.StartAsync(3, store: null, Server, silo =>
        {
            GrainTestCluster.WithStandIn<SyncGrain, ReceivingSyncGrain>()(silo);
            silo.Services.AddSingleton(received);
        });
        var members = Enumerable.Range(0, 30).Select(i => Server.UserId($"member{i}")).ToList();
        var running = members.Where((_, i) => i % 3 != 0).ToList();
        foreach (var userId in running) await cluster.Grains.GetGrain<ISyncGrain>(userId).NotifyAsync(new SyncNotice(SyncNoticeKind.Typing, null, 0));
        var roomSilo = cluster.SiloServices(0);
        var silos = roomSilo.GetRequiredService<ActiveSilos>();
        Assert.Equal(3, silos.Current().Count);

        using var meter = new MessageCounter();
        var publisher = new RoomFeedPublisher(roomSilo.GetRequiredService<IGrainFactory>(), silos, Server, NullLogger.Instance);
        await publisher.Publish("!room:test", 4, [Message(5, "first"), Message(6, "second")], members.Append("@remote:elsewhere"));
        await publisher.Publish("!room:test", 6, [Message(7, "third")], members);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (running.Any(userId => received.Of(userId).Count < 2) && DateTime.UtcNow < deadline) await Task.Delay(20);
        var expected = new[] { Message(5, "first"), Message(6, "second"), Message(7, "third") }.Select(SyncEventWriter.Share).ToList();
        foreach (var userId in running)
        {
            var feeds = received.Of(userId);
            Assert.Equal([4, 6], feeds.Select(f => f.PreviousRoomPosition));
            var events = feeds.SelectMany(f => f.Events).ToList();
            Assert.Equal(expected.Select(e => (e.EventId, e.GlobalPosition, e.TransactionId)), events.Select(e => (e.EventId, e.GlobalPosition, e.TransactionId)));
            Assert.Equal(expected.Select(e => Convert.ToBase64String(e.Body)), events.Select(e => Convert.ToBase64String(e.Body)));
        }
        foreach (var userId in members.Except(running))
        {
            Assert.Empty(received.Of(userId));
            Assert.False(cluster.IsActive(SyncGrainId(userId)));
        }
        Assert.Equal(2 * 3, meter.Messages);
        Assert.Equal(2, meter.Batches);
        Assert.Equal(3, meter.Serialised);

        var typing = new SyncNotice(SyncNoticeKind.Typing, "!room:test", 9);
        new SyncNotifier(roomSilo.GetRequiredService<IGrainFactory>(), silos, Server, new SyncDeliveryOptions(), NullLogger.Instance).Notify(members, typing);
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (running.Any(userId => !received.NoticesOf(userId).Contains(typing)) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.All(running, userId => Assert.Contains(typing, received.NoticesOf(userId)));
        Assert.All(members.Except(running), userId => Assert.False(cluster.IsActive(SyncGrainId(userId))));
    }

    private static GrainId SyncGrainId(string userId) => GrainId.Create("sync", userId);

    /// <summary>The fan-out counters recorded on this thread's test only (other tests of this assembly do not publish).</summary>
    /// <summary>
    /// Counts the fan-out measurements recorded by this test's own calls: the meter is process-wide and other test
    /// classes publish in parallel, so a measurement counts only when it is made in the flow that created the counter.
    /// </summary>
    private sealed class MessageCounter : IDisposable
    {
        private static readonly AsyncLocal<MessageCounter?> Counting = new();
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _messages, _batches, _serialised;

        public MessageCounter()
        {
            Counting.Value = this;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SyncMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (Counting.Value != this) return;
                if (instrument == SyncMetrics.FanOutMessages) Interlocked.Add(ref _messages, value);
                if (instrument == SyncMetrics.FanOutBatches) Interlocked.Add(ref _batches, value);
                if (instrument == SyncMetrics.EventsSerialised && tags.ToArray().Any(t => t.Key == "source" && (string?)t.Value == "room"))
                    Interlocked.Add(ref _serialised, value);
            });
            _listener.Start();
        }

        public long Messages => Interlocked.Read(ref _messages);
        public long Batches => Interlocked.Read(ref _batches);
        public long Serialised => Interlocked.Read(ref _serialised);

        public void Dispose() => _listener.Dispose();
    }
}
