using System.Net;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A sending server S with a room that a user of server R joined through make_join and send_join; R records the
/// transactions S sends it (<see cref="TransactionRecorder"/>). Typing and public read receipts of S's users in the room
/// reach R as <c>m.typing</c> and <c>m.receipt</c> EDUs, alone or with PDUs, at most 100 per transaction; private receipts
/// and rooms without a member of R send it nothing. (That R's members then see them is InboundTransactionTests' part.)
/// </summary>
public abstract class OutboundEduTests<TPair>(TPair pair) where TPair : FederationPair
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly string[] ShortRetries =
        ["--Federation:Outbound:InitialRetryDelay=00:00:00.2", "--Federation:Outbound:MaxRetryDelay=00:00:01"];

    [Fact]
    public async Task Typing_and_public_receipts_of_local_members_reach_the_other_server_in_the_room()
    {
        var net = await StartAsync();
        var (alice, roomId) = await net.RoomWithRemoteMemberAsync();
        var unshared = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var message = await alice.SendTextAsync(roomId, "read me");

        await alice.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(unshared)}/typing/{RoomsClient.Escape(alice.UserId)}", new { typing = true, timeout = 30000 });
        await alice.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/typing/{RoomsClient.Escape(alice.UserId)}", new { typing = true, timeout = 30000 });
        await alice.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/receipt/m.read.private/{RoomsClient.Escape(message)}", new { });
        await alice.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/receipt/m.read/{RoomsClient.Escape(message)}", new { });
        await alice.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/typing/{RoomsClient.Escape(alice.UserId)}", new { typing = false });

        var edus = await net.WaitForEdusAsync(3);
        Assert.Equal(["m.typing", "m.receipt", "m.typing"], edus.Select(e => e["edu_type"]!.GetValue<string>()));
        var started = edus[0]["content"]!;
        Assert.Equal(roomId, started["room_id"]!.GetValue<string>());
        Assert.Equal(alice.UserId, started["user_id"]!.GetValue<string>());
        Assert.True(started["typing"]!.GetValue<bool>());
        Assert.False(edus[2]["content"]!["typing"]!.GetValue<bool>());
        var receipt = edus[1]["content"]![roomId]!["m.read"]![alice.UserId]!;
        Assert.Equal([message], receipt["event_ids"]!.AsArray().Select(id => id!.GetValue<string>()));
        Assert.True(receipt["data"]!["ts"]!.GetValue<long>() > 0);
        Assert.All(net.Recorder.Accepted, t => Assert.InRange(t.Json["edus"]?.AsArray().Count ?? 0, 0, 100));
    }

    [Fact]
    public async Task EDUs_queued_while_the_other_server_is_down_go_after_it_in_transactions_of_at_most_100()
    {
        var net = await StartAsync();
        var (alice, roomId) = await net.RoomWithRemoteMemberAsync();
        await alice.SendTextAsync(roomId, "before going down");
        await net.WaitForFirstTransactionAsync();
        net.Recorder.Answer = RecorderAnswer.Down;

        for (var i = 0; i < 150; i++)
            await alice.OkAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/typing/{RoomsClient.Escape(alice.UserId)}", new { typing = i % 2 == 0, timeout = 30000 });
        await WaitUntilAsync(() => net.Recorder.Requests.Any(r => r.Answer == RecorderAnswer.Down), "a dropped attempt");
        net.Recorder.Answer = RecorderAnswer.Accept;

        var edus = await net.WaitForEdusAsync(150);
        Assert.Equal(150, edus.Count);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => i % 2 == 0), edus.Select(e => e["content"]!["typing"]!.GetValue<bool>()));
        var sizes = net.Recorder.Accepted.Select(t => t.Json["edus"]?.AsArray().Count ?? 0).ToList();
        Assert.All(sizes, size => Assert.InRange(size, 0, 100));
        Assert.Contains(100, sizes);
    }

    private async Task<Network> StartAsync()
    {
        var (sender, senderName) = await pair.StartAsync(allowPrivateAddresses: true, arguments: ShortRetries);
        var recorder = new TransactionRecorder();
        var (remote, remoteName) = await pair.StartAsync(allowPrivateAddresses: true, recorder.Install);
        return new Network(pair, sender, senderName, remote, remoteName, recorder);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    private sealed class Network(FederationPair pair, RunningServer sender, string senderName, RunningServer remote, string remoteName, TransactionRecorder recorder)
    {
        public TransactionRecorder Recorder => recorder;

        /// <summary>A local user's public room that a user of R joined as R would: make_join, sign, send_join.</summary>
        public async Task<(RoomsClient Alice, string RoomId)> RoomWithRemoteMemberAsync()
        {
            var alice = new RoomsClient(pair.ClientFor(sender), await TestUsers.CreateAsync(sender, "alice"));
            var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
            var remoteUser = $"@carol-{Guid.NewGuid().ToString("N")[..8]}:{remoteName}";
            var federation = remote.App.Services.GetRequiredService<FederationClient>();
            var made = await federation.SendAsync(senderName, HttpMethod.Get,
                $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(remoteUser)}?"
                + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
            Assert.Equal(HttpStatusCode.OK, made.StatusCode);
            var template = JsonNode.Parse(made.Body)!.AsObject();
            Assert.True(RoomVersion.TryGet(template["room_version"]!.GetValue<string>(), out var version));
            var join = (JsonObject)template["event"]!.DeepClone();
            if (version.EventIdInEvent) join["event_id"] = $"${Guid.NewGuid():N}:{remoteName}";
            join["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(join, version.StrictCanonicalJson)) };
            join["signatures"] = new JsonObject();
            EventSigning.Sign(version, join, remote.App.Services.GetRequiredService<LocalSigningKey>().Current);
            var eventId = EventHashing.ComputeEventId(version, join);
            var joined = await federation.SendAsync(senderName, HttpMethod.Put,
                $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(eventId.Value)}", join, CancellationToken.None);
            Assert.True(joined.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(joined.Body));
            return (alice, roomId);
        }

        public Task WaitForFirstTransactionAsync() => WaitUntilAsync(() => recorder.Accepted.Count > 0, "a first transaction");

        /// <summary>Waits for <paramref name="count"/> EDUs in transactions answered 200; returns them all in the order received.</summary>
        public async Task<List<JsonObject>> WaitForEdusAsync(int count)
        {
            await WaitUntilAsync(() => Edus().Count >= count, $"{count} EDUs at {remoteName}");
            // Anything sent twice or more would arrive right behind.
            await Task.Delay(300);
            return Edus();
        }

        private List<JsonObject> Edus() =>
            recorder.Accepted.SelectMany(t => t.Json["edus"]?.AsArray().Select(e => e!.AsObject()) ?? []).ToList();
    }
}

public sealed class SqliteOutboundEduTests(SqliteFederationPair pair)
    : OutboundEduTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresOutboundEduTests(PostgresFederationPair pair)
    : OutboundEduTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
