using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A sending server S (short retry delays, a catch-up threshold of <see cref="Threshold"/> events) with two rooms that a
/// user of server R joined; R records the transactions (<see cref="TransactionRecorder"/>) and goes down as each test
/// sets. Back from an outage with more than the threshold owed, R gets the newest event of each room only (and the
/// to-device messages owed), then new events as usual; with less, everything in order; the acknowledged position the
/// catch-up leaves survives a restart of S (docs/adr/0042-outbound-catch-up.md).
/// </summary>
public abstract class OutboundCatchUpTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const int Threshold = 20;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly string[] Arguments =
    [
        "--Federation:Outbound:InitialRetryDelay=00:00:00.2", "--Federation:Outbound:MaxRetryDelay=00:00:01",
        $"--Federation:Outbound:CatchUpThreshold={Threshold}",
    ];

    [Fact]
    public async Task A_destination_back_from_a_long_outage_gets_the_newest_event_of_each_room_then_new_events_as_usual()
    {
        var net = await StartAsync();
        var (alice, first, second, version) = await net.TwoRoomsWithRemoteMemberAsync();
        var before = await alice.SendTextAsync(first, "delivered before the outage");
        Assert.Equal([before], await net.WaitForAcceptedEventIdsAsync(version, 1));

        var inFlight = await net.GoDownAsync(alice, first);
        // 24 + 12 events owed besides the transaction in flight: more than the threshold, and gaps of more than 10.
        var missed = new List<string>();
        for (var i = 0; i < 24; i++) missed.Add(await alice.SendTextAsync(first, $"first room, missed {i}"));
        for (var i = 0; i < 12; i++) missed.Add(await alice.SendTextAsync(second, $"second room, missed {i}"));
        await alice.OkAsync(HttpMethod.Put, $"/sendToDevice/m.catch.up/{Guid.NewGuid():N}",
            new { messages = new Dictionary<string, object> { [net.RemoteUser] = new Dictionary<string, object> { ["*"] = new { hello = "after the outage" } } } });
        net.Recorder.Answer = RecorderAnswer.Accept;

        string[] newest = [missed[23], missed[35]];
        var received = await net.WaitForAcceptedEventIdsAsync(version, 4);
        Assert.Equal([before, inFlight], received[..2]);
        Assert.Equal(newest.Order(), received[2..].Order());
        var toDevice = net.Recorder.Accepted.SelectMany(t => t.Json["edus"]?.AsArray() ?? []).Where(e => e!["edu_type"]!.GetValue<string>() == "m.direct_to_device").ToList();
        Assert.Single(toDevice);
        Assert.Equal("after the outage", toDevice[0]!["content"]!["messages"]![net.RemoteUser]!["*"]!["hello"]!.GetValue<string>());

        var after = await alice.SendTextAsync(second, "after the catch-up");
        Assert.Equal([before, inFlight, .. received[2..], after], await net.WaitForAcceptedEventIdsAsync(version, 5));
        Assert.Equal(await GlobalPositionAsync(net.SenderStore, after), await net.AckedAsync());
    }

    [Fact]
    public async Task A_destination_back_from_a_short_outage_gets_everything_it_missed_in_order()
    {
        var net = await StartAsync();
        var (alice, first, second, version) = await net.TwoRoomsWithRemoteMemberAsync();
        var before = await alice.SendTextAsync(first, "delivered before the outage");
        Assert.Equal([before], await net.WaitForAcceptedEventIdsAsync(version, 1));

        var inFlight = await net.GoDownAsync(alice, first);
        var missed = new List<string>();
        for (var i = 0; i < 12; i++) missed.Add(await alice.SendTextAsync(i % 3 == 0 ? second : first, $"missed {i}"));
        net.Recorder.Answer = RecorderAnswer.Accept;

        Assert.Equal([before, inFlight, .. missed], await net.WaitForAcceptedEventIdsAsync(version, 14));
    }

    [Fact]
    public async Task The_acknowledged_position_a_catch_up_leaves_survives_a_restart_of_the_sender()
    {
        var net = await StartAsync();
        var (alice, first, second, version) = await net.TwoRoomsWithRemoteMemberAsync();
        var inFlight = await net.GoDownAsync(alice, first);
        var missed = new List<string>();
        for (var i = 0; i < 30; i++) missed.Add(await alice.SendTextAsync(i < 15 ? first : second, $"missed {i}"));
        net.Recorder.Answer = RecorderAnswer.Accept;
        var received = await net.WaitForAcceptedEventIdsAsync(version, 3);
        Assert.Equal(inFlight, received[0]);
        Assert.Equal(new[] { missed[14], missed[29] }.Order(), received[1..].Order());
        var acked = await net.AckedAsync();
        Assert.Equal(await GlobalPositionAsync(net.SenderStore, missed[29]), acked);

        await using var restarted = await net.Sender.RestartAsync();
        var store = restarted.App.Services.GetRequiredService<IHomeServerStore>();
        Assert.Equal(acked, (await store.FederationDestinations.GetAsync(net.RecorderName, CancellationToken.None))!.AckedPosition);
        var aliceAgain = new RoomsClient(pair.ClientFor(restarted), alice.User);
        var after = await aliceAgain.SendTextAsync(first, "after the restart");

        // Nothing of before the restart comes again: only the new event.
        Assert.Equal([.. received, after], await net.WaitForAcceptedEventIdsAsync(version, 4));
    }

    private async Task<Network> StartAsync()
    {
        var (sender, senderName) = await pair.StartAsync(allowPrivateAddresses: true, arguments: Arguments);
        var recorder = new TransactionRecorder();
        var (remote, remoteName) = await pair.StartAsync(allowPrivateAddresses: true, recorder.Install);
        return new Network(pair, sender, senderName, remote, remoteName, recorder);
    }

    private static async Task<long> GlobalPositionAsync(IHomeServerStore store, string eventId) =>
        (await store.Events.GetEventAsync(eventId, CancellationToken.None))!.GlobalPosition;

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>The sender S and the remote server R with its recorder.</summary>
    private sealed class Network(FederationPair pair, RunningServer sender, string senderName, RunningServer remote, string remoteName, TransactionRecorder recorder)
    {
        public RunningServer Sender => sender;

        public string RecorderName => remoteName;

        public TransactionRecorder Recorder => recorder;

        public IHomeServerStore SenderStore => sender.App.Services.GetRequiredService<IHomeServerStore>();

        public string RemoteUser { get; } = $"@carol-{Guid.NewGuid().ToString("N")[..8]}:{remoteName}";

        /// <summary>Two public rooms of a local user that the same user of R joined over federation.</summary>
        public async Task<(RoomsClient Alice, string First, string Second, RoomVersion Version)> TwoRoomsWithRemoteMemberAsync()
        {
            var alice = new RoomsClient(pair.ClientFor(sender), await TestUsers.CreateAsync(sender, "alice"));
            var first = await alice.CreateRoomAsync(new { preset = "public_chat" });
            var second = await alice.CreateRoomAsync(new { preset = "public_chat" });
            var (version, _) = await RemoteJoin.JoinAsync(remote, remoteName, senderName, first, RemoteUser);
            await RemoteJoin.JoinAsync(remote, remoteName, senderName, second, RemoteUser);
            return (alice, first, second, version);
        }

        /// <summary>Takes R down and sends one event, whose transaction S then keeps retrying; returns its id.</summary>
        public async Task<string> GoDownAsync(RoomsClient alice, string roomId)
        {
            Recorder.Answer = RecorderAnswer.Down;
            var inFlight = await alice.SendTextAsync(roomId, "in flight when R went down");
            await WaitUntilAsync(() => Recorder.Requests.Any(r => r.Answer == RecorderAnswer.Down), "a dropped attempt");
            return inFlight;
        }

        public async Task<long> AckedAsync() =>
            (await SenderStore.FederationDestinations.GetAsync(remoteName, CancellationToken.None))!.AckedPosition;

        /// <summary>
        /// Waits for <paramref name="count"/> PDUs in transactions answered 200, then a while longer for any that would
        /// follow, and returns the event ids of all of them in the order received.
        /// </summary>
        public async Task<List<string>> WaitForAcceptedEventIdsAsync(RoomVersion version, int count)
        {
            List<string> Ids() => Recorder.Accepted.SelectMany(t => t.Pdus).Select(p => EventHashing.ComputeEventId(version, p).Value).ToList();
            await WaitUntilAsync(() => Ids().Count >= count, $"{count} events at {remoteName} (requests: {Recorder.Requests.Count})");
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            return Ids();
        }
    }
}

public sealed class SqliteOutboundCatchUpTests(SqliteFederationPair pair)
    : OutboundCatchUpTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresOutboundCatchUpTests(PostgresFederationPair pair)
    : OutboundCatchUpTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
