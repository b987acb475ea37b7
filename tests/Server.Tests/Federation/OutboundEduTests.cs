using System.Net;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A sending server S with a room that a user of server R joined through make_join and send_join; R records the
/// transactions S sends it (<see cref="TransactionRecorder"/>). Typing and public read receipts of S's users in the room
/// reach R as <c>m.typing</c> and <c>m.receipt</c> EDUs, alone or with PDUs, at most 100 per transaction; private receipts
/// and rooms without a member of R send it nothing. (That R's members then see them is InboundTransactionTests' part.)
/// Presence changes queued while R is down reach it as the latest state per user (docs/adr/0045).
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

    [Fact]
    public async Task Presence_changes_queued_while_the_other_server_is_down_are_coalesced_to_the_latest_per_user()
    {
        var net = await StartAsync();
        var (alice, roomId) = await net.RoomWithRemoteMemberAsync();
        await alice.SendTextAsync(roomId, "before going down");
        await net.WaitForFirstTransactionAsync();
        net.Recorder.Answer = RecorderAnswer.Down;

        for (var i = 0; i < 20; i++)
            await alice.OkAsync(HttpMethod.Put, $"/presence/{RoomsClient.Escape(alice.UserId)}/status", new { presence = "online", status_msg = $"status {i}" });
        await WaitUntilAsync(() => net.Recorder.Requests.Any(r => r.Answer == RecorderAnswer.Down), "a dropped attempt");
        await Task.Delay(500); // the last changes reach the destination's queue
        net.Recorder.Answer = RecorderAnswer.Accept;

        await WaitUntilAsync(() => PresenceStatuses(net).LastOrDefault() == "status 19", "the latest presence at the other server");
        await Task.Delay(300);
        var statuses = PresenceStatuses(net);
        // At most the one taken into the attempt that failed, and the latest: not one EDU per change.
        Assert.InRange(statuses.Count, 1, 3);
        Assert.Equal("status 19", statuses[^1]);
    }

    private static List<string> PresenceStatuses(Network net) =>
        net.Recorder.Accepted.SelectMany(t => t.Json["edus"]?.AsArray().Select(e => e!.AsObject()) ?? [])
            .Where(e => e["edu_type"]!.GetValue<string>() == "m.presence")
            .SelectMany(e => e["content"]!["push"]!.AsArray())
            .Select(entry => entry!["status_msg"]?.GetValue<string>() ?? "")
            .ToList();

    [Fact]
    public async Task A_change_of_a_local_users_device_keys_reaches_the_other_servers_it_shares_a_room_with()
    {
        var net = await StartAsync();
        var (alice, _) = await net.RoomWithRemoteMemberAsync();
        var first = new SyncUser(pair.ClientFor(net.Sender), alice.UserId, alice.User.DeviceId, alice.User.AccessToken);
        var second = await TestUsers.AddDeviceAsync(net.Sender, alice.User, "SECONDDEVICE");
        var secondUser = new SyncUser(pair.ClientFor(net.Sender), second.UserId, second.DeviceId, second.AccessToken);
        using var key1 = new Keys.SigningKey();
        using var key2 = new Keys.SigningKey();

        await UploadAsync(first, new JsonObject { ["device_keys"] = Keys.KeysTestBase.DeviceKeys(first, key1) });
        await UploadAsync(secondUser, new JsonObject { ["device_keys"] = Keys.KeysTestBase.DeviceKeys(secondUser, key2) });

        var updates = await net.WaitForEdusAsync(2);
        Assert.All(updates, u => Assert.Equal("m.device_list_update", u["edu_type"]!.GetValue<string>()));
        var (one, two) = (updates[0]["content"]!, updates[1]["content"]!);
        Assert.Equal(alice.UserId, one["user_id"]!.GetValue<string>());
        Assert.Equal(first.DeviceId, one["device_id"]!.GetValue<string>());
        Assert.Equal(key1.PublicKey, one["keys"]!["keys"]!["ed25519:" + first.DeviceId]!.GetValue<string>());
        Assert.Equal("SECONDDEVICE", two["device_id"]!.GetValue<string>());
        Assert.True(two["stream_id"]!.GetValue<long>() > one["stream_id"]!.GetValue<long>());
        // Each names the one before, so a server that missed one knows to fetch the whole list.
        Assert.Equal([one["stream_id"]!.GetValue<long>()], two["prev_id"]!.AsArray().Select(p => p!.GetValue<long>()));
    }

    [Fact]
    public async Task A_device_list_update_owed_to_a_server_that_is_down_survives_a_restart_of_the_sender_and_arrives_once()
    {
        var net = await StartAsync();
        var (alice, roomId) = await net.RoomWithRemoteMemberAsync();
        await alice.SendTextAsync(roomId, "before going down");
        await net.WaitForFirstTransactionAsync();
        net.Recorder.Answer = RecorderAnswer.Down;

        var device = new SyncUser(pair.ClientFor(net.Sender), alice.UserId, alice.User.DeviceId, alice.User.AccessToken);
        using var key = new Keys.SigningKey();
        await UploadAsync(device, new JsonObject { ["device_keys"] = Keys.KeysTestBase.DeviceKeys(device, key) });
        await WaitUntilAsync(() => net.Recorder.Requests.Any(r => r.Answer == RecorderAnswer.Down), "a dropped attempt");

        await using var restarted = await net.Sender.RestartAsync();
        net.Recorder.Answer = RecorderAnswer.Accept;

        var update = Assert.Single(await net.WaitForEdusAsync(1, "m.device_list_update"));
        Assert.Equal(alice.UserId, update["content"]!["user_id"]!.GetValue<string>());
        Assert.Equal(key.PublicKey, update["content"]!["keys"]!["keys"]!["ed25519:" + device.DeviceId]!.GetValue<string>());
    }

    [Fact]
    public async Task An_inbound_device_list_update_shows_the_remote_user_in_device_lists_changed_of_local_members()
    {
        // B's room, which a user of A joined: A then announces that user's device change.
        var net = new Network(pair, pair.B, pair.NameOfB, pair.A, pair.NameOfA, new TransactionRecorder());
        var (bob, _) = await net.RoomWithRemoteMemberAsync();
        var remote = net.RemoteUser;
        var sync = new SyncUser(pair.ClientFor(pair.B), bob.UserId, bob.User.DeviceId, bob.User.AccessToken);
        var since = (await sync.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;
        JsonObject Update(string userId) => new()
        {
            ["edu_type"] = "m.device_list_update",
            ["content"] = new JsonObject { ["user_id"] = userId, ["device_id"] = "NEWDEVICE", ["stream_id"] = 7, ["prev_id"] = new JsonArray() },
        };

        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/send/dl-{Guid.NewGuid():N}", new JsonObject
        {
            ["origin"] = pair.NameOfA,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(),
            ["edus"] = new JsonArray(
                new JsonObject { ["edu_type"] = "m.device_list_update", ["content"] = new JsonObject { ["device_id"] = "X" } },
                // A cannot speak for B's users.
                Update(bob.UserId),
                Update(remote)),
        }, CancellationToken.None);

        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(response.Body));
        var changed = new List<string>();
        var deadline = DateTime.UtcNow + Patience;
        while (!changed.Contains(remote))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{remote} not in device_lists.changed: {string.Join(", ", changed)}");
            var body = await sync.SyncSinceAsync(since, "timeout=1000");
            since = body.GetProperty("next_batch").GetString()!;
            if (body.TryGetProperty("device_lists", out var lists) && lists.TryGetProperty("changed", out var users))
                changed.AddRange(users.EnumerateArray().Select(u => u.GetString()!));
        }
        Assert.DoesNotContain(bob.UserId, changed);
    }

    private static async Task UploadAsync(SyncUser user, JsonObject body)
    {
        var response = await user.SendAsync(HttpMethod.Post, "/_matrix/client/v3/keys/upload", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
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

        public RunningServer Sender => sender;

        /// <summary>The user of R that joined, once <see cref="RoomWithRemoteMemberAsync"/> ran.</summary>
        public string RemoteUser { get; private set; } = "";

        /// <summary>A local user's public room that a user of R joined as R would: make_join, sign, send_join.</summary>
        public async Task<(RoomsClient Alice, string RoomId)> RoomWithRemoteMemberAsync()
        {
            var alice = new RoomsClient(pair.ClientFor(sender), await TestUsers.CreateAsync(sender, "alice"));
            var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
            var remoteUser = RemoteUser = $"@carol-{Guid.NewGuid().ToString("N")[..8]}:{remoteName}";
            await RemoteJoin.JoinAsync(remote, remoteName, senderName, roomId, remoteUser);
            return (alice, roomId);
        }

        public Task WaitForFirstTransactionAsync() => WaitUntilAsync(() => recorder.Accepted.Count > 0, "a first transaction");

        /// <summary>Waits for <paramref name="count"/> EDUs in transactions answered 200; returns them all in the order received.</summary>
        public async Task<List<JsonObject>> WaitForEdusAsync(int count, string? eduType = null)
        {
            await WaitUntilAsync(() => Edus(eduType).Count >= count, $"{count} EDUs at {remoteName}");
            // Anything sent twice or more would arrive right behind.
            await Task.Delay(300);
            return Edus(eduType);
        }

        private List<JsonObject> Edus(string? eduType) =>
            recorder.Accepted.SelectMany(t => t.Json["edus"]?.AsArray().Select(e => e!.AsObject()) ?? [])
                .Where(e => eduType is null || e["edu_type"]!.GetValue<string>() == eduType)
                .ToList();
    }
}

public sealed class SqliteOutboundEduTests(SqliteFederationPair pair)
    : OutboundEduTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresOutboundEduTests(PostgresFederationPair pair)
    : OutboundEduTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
