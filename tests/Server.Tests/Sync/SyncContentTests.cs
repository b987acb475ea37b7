using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;

namespace HomeServer.Server.Tests.Sync;

public abstract class SyncContentTests : SyncTestBase
{
    [Fact]
    public async Task Initial_sync_has_every_section_and_the_joined_room_with_timeline_state_and_summary()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await Rooms.SetMembershipAsync(roomId, bob.UserId, bob.UserId, "join");
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 12);

        var sync = await alice.SyncAsync();

        foreach (var section in new[] { "account_data", "to_device" })
            Assert.Equal(0, sync.GetProperty(section).GetProperty("events").GetArrayLength());
        // The sync itself marks alice online; bob never synced, so he is offline and an initial sync leaves him out.
        Assert.Equal([(alice.UserId, "online")], sync.GetProperty("presence").GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("sender").GetString(), e.GetProperty("content").GetProperty("presence").GetString())));
        Assert.Equal(0, sync.GetProperty("device_lists").GetProperty("changed").GetArrayLength());
        // No keys uploaded: signed_curve25519 is listed as 0 all the same, as Synapse does (clients top up on it).
        Assert.Equal([("signed_curve25519", 0)], sync.GetProperty("device_one_time_keys_count").EnumerateObject()
            .Select(p => (p.Name, p.Value.GetInt32())));
        Assert.Equal(0, sync.GetProperty("device_unused_fallback_key_types").GetArrayLength());
        Assert.StartsWith("s", NextBatch(sync));
        var room = Joined(sync, roomId);
        // The default timeline limit is 10; 12 messages follow the room's 4 state events.
        Assert.Equal(Enumerable.Range(3, 10).Select(i => $"message {i}"), Bodies(room));
        Assert.True(Timeline(room).GetProperty("limited").GetBoolean());
        Assert.StartsWith("t", Timeline(room).GetProperty("prev_batch").GetString());
        Assert.Equal(
            new[] { ("m.room.create", ""), ("m.room.join_rules", ""), ("m.room.member", alice.UserId), ("m.room.member", bob.UserId) }.Order(),
            StateKeys(room).Order());
        var summary = room.GetProperty("summary");
        Assert.Equal([bob.UserId], summary.GetProperty("m.heroes").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(2, summary.GetProperty("m.joined_member_count").GetInt32());
        Assert.Equal(0, summary.GetProperty("m.invited_member_count").GetInt32());
        Assert.Equal(0, room.GetProperty("unread_notifications").GetProperty("notification_count").GetInt32());
        Assert.Equal(0, room.GetProperty("unread_notifications").GetProperty("highlight_count").GetInt32());
        Assert.Equal(0, room.GetProperty("ephemeral").GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Events_are_in_client_format_with_event_id_age_and_the_transaction_id_only_for_the_sending_device()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        var first = await alice.SyncAsync();
        var sent = await Rooms.SendMessageAsync(roomId, alice.UserId, "hello", new ClientTransaction(alice.DeviceId, "txn-1"));

        var sync = await alice.SyncSinceAsync(NextBatch(first));

        var message = Timeline(Joined(sync, roomId)).GetProperty("events")[0];
        Assert.Equal(sent.EventId, message.GetProperty("event_id").GetString());
        Assert.Equal("m.room.message", message.GetProperty("type").GetString());
        Assert.Equal(alice.UserId, message.GetProperty("sender").GetString());
        Assert.Equal(sent.OriginServerTs, message.GetProperty("origin_server_ts").GetInt64());
        Assert.Equal("hello", message.GetProperty("content").GetProperty("body").GetString());
        Assert.Equal("txn-1", message.GetProperty("unsigned").GetProperty("transaction_id").GetString());
        Assert.InRange(message.GetProperty("unsigned").GetProperty("age").GetInt64(), 0, 60_000);
        foreach (var federationOnly in new[] { "auth_events", "prev_events", "depth", "hashes", "signatures", "room_id" })
            Assert.False(message.TryGetProperty(federationOnly, out _), federationOnly);

        var otherDevice = await alice.SyncAsync("filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":1}}}"));
        Assert.Equal("txn-1", Timeline(Joined(otherDevice, roomId)).GetProperty("events")[0].GetProperty("unsigned").GetProperty("transaction_id").GetString());
        var bob = await RegisterAsync("bob");
        await Rooms.SetMembershipAsync(roomId, bob.UserId, bob.UserId, "join");
        var bobSync = await bob.SyncAsync();
        var seenByBob = Timeline(Joined(bobSync, roomId)).GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("event_id").GetString() == sent.EventId);
        Assert.False(seenByBob.GetProperty("unsigned").TryGetProperty("transaction_id", out _));
    }

    [Fact]
    public async Task Incremental_sync_returns_exactly_the_new_events_in_order_and_no_unchanged_rooms()
    {
        var alice = await RegisterAsync("alice");
        var busy = await Rooms.CreateRoomAsync(alice.UserId);
        var quiet = await Rooms.CreateRoomAsync(alice.UserId);
        var initial = await alice.SyncAsync();
        await Rooms.SendMessagesAsync(busy, alice.UserId, 3);

        var sync = await alice.SyncSinceAsync(NextBatch(initial));

        Assert.Equal(["message 1", "message 2", "message 3"], Bodies(Joined(sync, busy)));
        Assert.False(Timeline(Joined(sync, busy)).GetProperty("limited").GetBoolean());
        Assert.Empty(StateKeys(Joined(sync, busy)));
        Assert.False(HasJoined(sync, quiet));

        var again = await alice.SyncSinceAsync(NextBatch(sync));
        Assert.Equal(0, RoomCount(again, "join"));
        Assert.Equal(NextBatch(sync), NextBatch(again));
    }

    [Fact]
    public async Task Account_data_global_and_per_room_arrive_initially_and_incrementally()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await alice.SetAccountDataAsync("org.example.settings", new JsonObject { ["theme"] = "dark" });
        var initial = await alice.SyncAsync();
        Assert.Contains(initial.GetProperty("account_data").GetProperty("events").EnumerateArray(),
            e => e.GetProperty("type").GetString() == "org.example.settings" && e.GetProperty("content").GetProperty("theme").GetString() == "dark");

        await alice.SetAccountDataAsync("m.tag", new JsonObject { ["tags"] = new JsonObject { ["u.work"] = new JsonObject() } }, roomId);
        var sync = await alice.SyncSinceAsync(NextBatch(initial), "timeout=5000");

        Assert.Equal(0, sync.GetProperty("account_data").GetProperty("events").GetArrayLength());
        var roomData = Joined(sync, roomId).GetProperty("account_data").GetProperty("events");
        Assert.Equal("m.tag", roomData[0].GetProperty("type").GetString());
        Assert.True(roomData[0].GetProperty("content").GetProperty("tags").TryGetProperty("u.work", out _));
        Assert.Equal(0, Timeline(Joined(sync, roomId)).GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Receipts_arrive_as_one_m_receipt_event_and_private_receipts_only_for_their_owner()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await Rooms.SetMembershipAsync(roomId, bob.UserId, bob.UserId, "join");
        var message = await Rooms.SendMessageAsync(roomId, alice.UserId, "read me");
        var initial = await alice.SyncAsync();
        var bobInitial = await bob.SyncAsync();

        await Rooms.SetReceiptAsync(roomId, bob.UserId, message.EventId);
        await Rooms.SetReceiptAsync(roomId, bob.UserId, message.EventId, "m.read.private");
        var sync = await alice.SyncSinceAsync(NextBatch(initial));
        var bobSync = await bob.SyncSinceAsync(NextBatch(bobInitial));

        var receipt = Joined(sync, roomId).GetProperty("ephemeral").GetProperty("events").EnumerateArray().Single();
        Assert.Equal("m.receipt", receipt.GetProperty("type").GetString());
        var byType = receipt.GetProperty("content").GetProperty(message.EventId);
        Assert.True(byType.GetProperty("m.read").GetProperty(bob.UserId).GetProperty("ts").GetInt64() > 0);
        Assert.False(byType.TryGetProperty("m.read.private", out _));
        var own = Joined(bobSync, roomId).GetProperty("ephemeral").GetProperty("events")[0].GetProperty("content").GetProperty(message.EventId);
        Assert.True(own.TryGetProperty("m.read.private", out _));
    }

    [Fact]
    public async Task A_limited_incremental_timeline_carries_the_state_that_changed_in_the_gap()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        var initial = await alice.SyncAsync();
        await Rooms.SendStateAsync(roomId, alice.UserId, "m.room.name", "", new JsonObject { ["name"] = "In the gap" });
        // Beyond the backlog a sync delivers whole (in several responses): the timeline is cut to the limit.
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 101);

        var sync = await alice.SyncSinceAsync(NextBatch(initial));

        var room = Joined(sync, roomId);
        Assert.True(Timeline(room).GetProperty("limited").GetBoolean());
        Assert.Equal(10, Timeline(room).GetProperty("events").GetArrayLength());
        Assert.Equal([("m.room.name", "")], StateKeys(room));
    }

    [Fact]
    public async Task Full_state_returns_all_joined_rooms_with_their_state_even_without_new_events()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId, name: "Full");
        var initial = await alice.SyncAsync();

        var sync = await alice.SyncSinceAsync(NextBatch(initial), "full_state=true&timeout=10000");

        var room = Joined(sync, roomId);
        Assert.Equal(0, Timeline(room).GetProperty("events").GetArrayLength());
        Assert.Contains(("m.room.name", ""), StateKeys(room));
        Assert.Contains(("m.room.create", ""), StateKeys(room));
    }
}

public sealed class SqliteSyncContentTests : SyncContentTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncContentTests : SyncContentTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
