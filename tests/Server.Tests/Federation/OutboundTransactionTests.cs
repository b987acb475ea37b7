using System.Net;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A sending server S (this project, short retry delays) with a room that a user of server R joined through make_join
/// and send_join; R records the transactions S sends it (<see cref="TransactionRecorder"/>) and answers as each test
/// sets. R receives the room's later events exactly once, in order, in signed transactions of at most 50 PDUs, also
/// after failures and after S restarted while R was down; rooms without a member of R send it nothing.
/// </summary>
public abstract class OutboundTransactionTests<TPair>(TPair pair) where TPair : FederationPair
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly string[] ShortRetries =
        ["--Federation:Outbound:InitialRetryDelay=00:00:00.2", "--Federation:Outbound:MaxRetryDelay=00:00:01"];

    [Fact]
    public async Task A_joined_server_receives_every_later_event_once_in_order_in_signed_transactions()
    {
        var net = await StartAsync();
        var (alice, roomId, version, _) = await net.RoomWithRemoteMemberAsync();

        // Sent one by one and in a burst, so transactions of one event and of many are both exercised.
        for (var i = 0; i < 5; i++) await alice.SendTextAsync(roomId, $"one by one {i}");
        await Task.WhenAll(Enumerable.Range(0, 80).Select(i => alice.SendTextAsync(roomId, $"burst {i}")));
        await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "federated" });

        var expected = await net.EventsAfterJoinAsync(roomId);
        Assert.Equal(86, expected.Count);
        var received = await net.WaitForAcceptedEventIdsAsync(version, expected.Count);
        Assert.Equal(expected, received);

        var transactions = net.Recorder.Accepted;
        Assert.Equal(transactions.Count, transactions.Select(t => t.TransactionId).Distinct().Count());
        Assert.All(transactions, t =>
        {
            Assert.InRange(t.Pdus.Count, 1, 50);
            Assert.Equal(net.SenderName, t.Json["origin"]!.GetValue<string>());
            Assert.True(t.Json["origin_server_ts"]!.GetValue<long>() > 0);
            Assert.True(net.SignatureVerifies(t), $"X-Matrix signature of {t.TransactionId} does not verify");
            Assert.All(t.Pdus, pdu =>
            {
                Assert.Null(pdu["unsigned"]);
                Assert.True(EventSigning.Verify(version, pdu, net.SenderName, net.SenderKey.KeyId, net.SenderKey.PublicKey));
            });
        });
        Assert.Empty(net.ProblemsLoggedBySender());
    }

    [Fact]
    public async Task A_destination_answering_500_is_retried_with_the_same_transaction_and_gets_everything_once_it_recovers()
    {
        var net = await StartAsync();
        var (alice, roomId, version, _) = await net.RoomWithRemoteMemberAsync();
        net.Recorder.Answer = RecorderAnswer.Fail;

        await alice.SendTextAsync(roomId, "while failing 1");
        await WaitUntilAsync(() => net.Recorder.Requests.Count(r => r.Answer == RecorderAnswer.Fail) >= 3, "three failed attempts");
        await alice.SendTextAsync(roomId, "while failing 2");
        var failed = net.Recorder.Requests.Where(r => r.Answer == RecorderAnswer.Fail).ToList();
        Assert.Single(failed.Select(r => r.TransactionId).Distinct());
        Assert.All(failed, r => Assert.Equal(failed[0].Body, r.Body));
        Assert.NotNull((await net.SenderStore.FederationDestinations.GetAsync(net.RecorderName, CancellationToken.None))!.FailingSinceTs);

        net.Recorder.Answer = RecorderAnswer.Accept;
        await alice.SendTextAsync(roomId, "after recovery");

        var expected = await net.EventsAfterJoinAsync(roomId);
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected, await net.WaitForAcceptedEventIdsAsync(version, expected.Count));
        // The transaction that failed went through under its own id.
        Assert.Equal(failed[0].TransactionId, net.Recorder.Accepted[0].TransactionId);
        await WaitUntilAsync(async () => (await net.SenderStore.FederationDestinations.GetAsync(net.RecorderName, CancellationToken.None))!.FailingSinceTs is null,
            "the destination no longer marked failing");
    }

    [Fact]
    public async Task A_destination_down_while_the_sender_restarts_gets_what_it_missed_after_the_restart()
    {
        var net = await StartAsync();
        var (alice, roomId, version, _) = await net.RoomWithRemoteMemberAsync();
        await alice.SendTextAsync(roomId, "delivered before the outage");
        await net.WaitForAcceptedEventIdsAsync(version, 1);

        net.Recorder.Answer = RecorderAnswer.Down;
        await alice.SendTextAsync(roomId, "missed 1");
        await alice.SendTextAsync(roomId, "missed 2");
        await WaitUntilAsync(() => net.Recorder.Requests.Any(r => r.Answer == RecorderAnswer.Down), "a dropped attempt");

        await using var restarted = await net.Sender.RestartAsync();
        var aliceAgain = new RoomsClient(pair.ClientFor(restarted), alice.User);
        await aliceAgain.SendTextAsync(roomId, "missed 3, sent after the restart");
        net.Recorder.Answer = RecorderAnswer.Accept;

        var expected = await EventsAfterAsync(restarted.App.Services.GetRequiredService<IHomeServerStore>(), roomId, net.JoinPosition);
        Assert.Equal(4, expected.Count);
        Assert.Equal(expected, await net.WaitForAcceptedEventIdsAsync(version, expected.Count));
    }

    [Fact]
    public async Task A_room_without_members_of_other_servers_sends_nothing_and_a_kicked_server_gets_its_leave_and_nothing_after()
    {
        var net = await StartAsync();
        var (alice, federated, version, remote) = await net.RoomWithRemoteMemberAsync();
        var local = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var localEvents = new HashSet<string> { await alice.SendTextAsync(local, "stays here") };

        await alice.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(federated)}/kick", new { user_id = remote, reason = "bye" });
        var leave = (await net.EventsAfterJoinAsync(federated)).Single();
        localEvents.Add(await alice.SendTextAsync(local, "still here"));
        var afterKick = await alice.SendTextAsync(federated, "nobody of R is here any more");

        Assert.Equal([leave], await net.WaitForAcceptedEventIdsAsync(version, 1));
        // Nothing more comes: the local room's events and the message after the kick never leave this server.
        await alice.SendTextAsync(federated, "a last one");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var sent = net.Recorder.Requests.SelectMany(r => r.Pdus).Select(p => EventHashing.ComputeEventId(version, p).Value).ToList();
        Assert.Equal([leave], sent);
        Assert.DoesNotContain(afterKick, sent);
        Assert.Empty(sent.Intersect(localEvents));
        var destination = await net.SenderStore.FederationDestinations.GetAsync(net.RecorderName, CancellationToken.None);
        Assert.Empty(destination!.Rooms);
    }

    private async Task<Network> StartAsync()
    {
        var (sender, senderName) = await pair.StartAsync(allowPrivateAddresses: true, arguments: ShortRetries);
        var recorder = new TransactionRecorder();
        var (remote, remoteName) = await pair.StartAsync(allowPrivateAddresses: true, recorder.Install);
        return new Network(pair, sender, senderName, remote, remoteName, recorder);
    }

    private static async Task<List<string>> EventsAfterAsync(IHomeServerStore store, string roomId, long roomPosition) =>
        (await store.Events.GetRoomEventsAsync(roomId, roomPosition, Direction.Forward, 1000, CancellationToken.None)).Select(e => e.EventId).ToList();

    private static async Task WaitUntilAsync(Func<bool> condition, string what) => await WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>The sender S, the remote server R with its recorder, and the room R's user joined.</summary>
    private sealed class Network(FederationPair pair, RunningServer sender, string senderName, RunningServer remote, string remoteName, TransactionRecorder recorder)
    {
        public RunningServer Sender => sender;

        public string SenderName => senderName;

        public string RecorderName => remoteName;

        public TransactionRecorder Recorder => recorder;

        public ServerSigningKey SenderKey => sender.App.Services.GetRequiredService<LocalSigningKey>().Current;

        public IHomeServerStore SenderStore => sender.App.Services.GetRequiredService<IHomeServerStore>();

        /// <summary>The room position of the remote user's join.</summary>
        public long JoinPosition { get; private set; }

        /// <summary>A local user's public room that a user of R joined over federation, as R would: make_join, sign, send_join.</summary>
        public async Task<(RoomsClient Alice, string RoomId, RoomVersion Version, string RemoteUser)> RoomWithRemoteMemberAsync()
        {
            var alice = new RoomsClient(pair.ClientFor(sender), await TestUsers.CreateAsync(sender, "alice"));
            var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
            await alice.SendTextAsync(roomId, "before anyone of R joined");
            var remoteUser = $"@carol-{Guid.NewGuid().ToString("N")[..8]}:{remoteName}";
            var (version, eventId) = await RemoteJoin.JoinAsync(remote, remoteName, senderName, roomId, remoteUser);
            JoinPosition = (await SenderStore.Events.GetEventAsync(eventId.Value, CancellationToken.None))!.RoomPosition;
            return (alice, roomId, version, remoteUser);
        }

        /// <summary>The room's events after the remote join, as the sender stored them, in room order.</summary>
        public Task<List<string>> EventsAfterJoinAsync(string roomId) => EventsAfterAsync(SenderStore, roomId, JoinPosition);

        /// <summary>Waits for <paramref name="count"/> PDUs in transactions answered 200, and returns their event ids in the order received.</summary>
        public async Task<List<string>> WaitForAcceptedEventIdsAsync(RoomVersion version, int count)
        {
            List<string> ids = [];
            await WaitUntilAsync(() =>
            {
                ids = Recorder.Accepted.SelectMany(t => t.Pdus).Select(p => EventHashing.ComputeEventId(version, p).Value).ToList();
                return ids.Count >= count;
            }, $"{count} events at {remoteName} (requests: {Recorder.Requests.Count}; sender's log: {string.Join(" | ", sender.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Information && (e.Category.Contains("Federation") || e.Category.Contains("Room"))).Select(e => $"{e.Category}: {e.Message} {e.Exception?.Message}"))})");
            // Anything sent twice or more would arrive right behind.
            await Task.Delay(300);
            return Recorder.Accepted.SelectMany(t => t.Pdus).Select(p => EventHashing.ComputeEventId(version, p).Value).ToList();
        }

        /// <summary>The request's X-Matrix header names S and R and its signature over method, target and body verifies with S's key.</summary>
        public bool SignatureVerifies(RecordedTransaction transaction) =>
            XMatrixAuthorization.TryParse(transaction.Authorization, out var authorization)
            && authorization.Origin == senderName
            && authorization.Destination == remoteName
            && authorization.Key == SenderKey.KeyId
            && RequestSigning.Verify(authorization, "PUT", transaction.RawTarget, remoteName, transaction.Json, SenderKey.PublicKey);

        public List<string> ProblemsLoggedBySender() =>
            sender.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && e.Category.Contains("Federation", StringComparison.Ordinal))
                .Select(e => $"{e.Category}: {e.Message} {e.Exception}").ToList();
    }
}

public sealed class SqliteOutboundTransactionTests(SqliteFederationPair pair)
    : OutboundTransactionTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresOutboundTransactionTests(PostgresFederationPair pair)
    : OutboundTransactionTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
