using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Delivery;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Shared-event responses through real rooms and HTTP: what they hold, how they mix with the store path, whom they wake.</summary>
[Collection(SyncMeterCollection.Name)]
public abstract class SharedDeliveryTests : SyncTestBase
{
    private RoomsClient Client(TestUser user) => new(Server.Client, user);

    private async Task<JsonElement> SyncAsync(TestUser user, string? since, string query = "timeout=10000")
    {
        var path = "/_matrix/client/v3/sync" + (since is null ? "" : $"?since={Uri.EscapeDataString(since)}&{query}");
        return await SyncPathAsync(user, path);
    }

    private async Task<JsonElement> SyncPathAsync(TestUser user, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", user.AccessToken);
        using var response = await Server.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"sync: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    /// <summary>Long-polls from <paramref name="since"/> until <paramref name="count"/> timeline events of the room arrived.</summary>
    private async Task<(List<JsonElement> Events, string NextBatch)> ReceiveAsync(TestUser user, string roomId, string since, int count)
    {
        var events = new List<JsonElement>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (events.Count < count)
        {
            deadline.Token.ThrowIfCancellationRequested();
            var sync = await SyncAsync(user, since);
            since = NextBatch(sync);
            if (!HasJoined(sync, roomId)) continue;
            Assert.False(Timeline(Joined(sync, roomId)).GetProperty("limited").GetBoolean());
            events.AddRange(Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray());
        }
        return (events, since);
    }

    /// <summary>An event as a client stores it: everything but its age.</summary>
    private static string WithoutAge(JsonElement clientEvent)
    {
        var node = JsonNode.Parse(clientEvent.GetRawText())!.AsObject();
        node["unsigned"]!.AsObject().Remove("age");
        return node.ToJsonString();
    }

    private static string Body(JsonElement clientEvent) => clientEvent.GetProperty("content").GetProperty("body").GetString()!;

    [Fact]
    public async Task Shared_responses_hold_what_the_store_path_writes_and_their_token_skips_what_they_delivered_after_a_restart()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        var since = NextBatch(await SyncAsync(alice, null));

        using var meter = new SyncMeterRecorder();
        var receiving = ReceiveAsync(alice, roomId, since, 3);
        await Client(bob).SendTextAsync(roomId, "one");
        await Client(alice).SendAsync(roomId, new { msgtype = "m.text", body = "two" }, txnId: "alice-txn-2");
        await Client(bob).SendTextAsync(roomId, "three");
        var (shared, afterShared) = await receiving;

        Assert.Equal(["one", "two", "three"], shared.Select(Body));
        Assert.Equal("alice-txn-2", shared[1].GetProperty("unsigned").GetProperty("transaction_id").GetString());
        Assert.True(meter.Total(SyncMetrics.SharedResponses) > 0);
        Assert.Equal(0, meter.Total(SyncMetrics.StoreResponses));
        // The token lists the delivered events (the fifth part; a presence position may follow as the last).
        Assert.Matches(@"^s\d+_\d+_\d+_\d+\.\d+_[0-9.]+(_p\d+)?$", afterShared);

        await RestartAsync();
        var fromStore = Timeline(Joined(await SyncAsync(alice, since, "timeout=0"), roomId));
        Assert.Equal(shared.Select(WithoutAge), fromStore.GetProperty("events").EnumerateArray().Select(WithoutAge));

        await Client(bob).SendTextAsync(roomId, "four");
        var (next, _) = await ReceiveAsync(alice, roomId, afterShared, 1);
        Assert.Equal(["four"], next.Select(Body));
    }

    [Fact]
    public async Task Shared_and_store_responses_interleave_without_losing_or_repeating_an_event()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var carol = await TestUsers.CreateAsync(Server, "carol");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        var since = NextBatch(await SyncAsync(alice, null));

        using var meter = new SyncMeterRecorder();
        var receiving = ReceiveAsync(alice, roomId, since, 13);
        for (var i = 0; i < 4; i++) await Client(bob).SendTextAsync(roomId, $"before {i}");
        await Client(carol).JoinAsync(roomId);
        for (var i = 0; i < 4; i++) await Client(carol).SendTextAsync(roomId, $"after join {i}");
        await Client(alice).OkAsync(HttpMethod.Put, $"/user/{Uri.EscapeDataString(alice.UserId)}/account_data/org.example", new { n = 1 });
        for (var i = 0; i < 4; i++) await Client(bob).SendTextAsync(roomId, $"after account data {i}");
        var (events, _) = await receiving;

        var messages = events.Where(e => e.GetProperty("type").GetString() == "m.room.message").Select(Body).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"before {i}")
            .Concat(Enumerable.Range(0, 4).Select(i => $"after join {i}"))
            .Concat(Enumerable.Range(0, 4).Select(i => $"after account data {i}")), messages);
        Assert.Single(events, e => e.GetProperty("type").GetString() == "m.room.member");
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("event_id").GetString()).Distinct().Count());
        Assert.True(meter.Total(SyncMetrics.SharedResponses) > 0);
        Assert.True(meter.Total(SyncMetrics.StoreResponses) > 0);
    }

    [Fact]
    public async Task A_long_run_of_shared_responses_moves_the_token_over_other_rooms_events_without_the_store_or_a_lost_event()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var dave = await TestUsers.CreateAsync(Server, "dave");
        var busy = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        var quiet = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(busy);
        await Client(bob).JoinAsync(quiet);
        // A room alice is not in: its events take global positions between hers.
        var elsewhere = await Client(dave).CreateRoomAsync(new { preset = "public_chat" });
        var since = NextBatch(await SyncAsync(alice, null));

        using var meter = new SyncMeterRecorder();
        var expected = new List<string>();
        var receiving = CollectAsync(alice, since, [busy, quiet], count: 130);
        for (var i = 0; i < 120; i++)
        {
            await Client(bob).SendTextAsync(busy, $"busy {i}");
            expected.Add($"busy {i}");
            if (i % 3 == 0) await Client(dave).SendTextAsync(elsewhere, $"elsewhere {i}");
            if (i % 12 == 0)
            {
                await Client(bob).SendTextAsync(quiet, $"quiet {i}");
                expected.Add($"quiet {i}");
            }
        }
        var (received, tokens) = await receiving;

        // Each room in order, exactly once (a response lists one room's events after the other's).
        Assert.Equal(InRoom(expected, "busy"), InRoom(received, "busy"));
        Assert.Equal(InRoom(expected, "quiet"), InRoom(received, "quiet"));
        Assert.True(meter.Total(SyncMetrics.CompactedTokens) > 0);
        Assert.Equal(0, meter.Total(SyncMetrics.StoreResponses));
        // Every token stays short: its delivered list was emptied rather than grown to the limit.
        Assert.All(tokens, token => Assert.True(token.Token.Length < 200, token.Token));

        // A token from the middle of the run means the same to the store path of a new activation.
        var middle = tokens[tokens.Count / 2];
        var (afterMiddle, _) = await CollectAsync(alice, middle.Token, [busy, quiet], count: received.Count - middle.Received, restartFirst: true);
        Assert.Equal(InRoom(received.Skip(middle.Received), "busy"), InRoom(afterMiddle, "busy"));
        Assert.Equal(InRoom(received.Skip(middle.Received), "quiet"), InRoom(afterMiddle, "quiet"));
    }

    private static List<string> InRoom(IEnumerable<string> bodies, string room) => bodies.Where(body => body.StartsWith(room + " ", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task With_lazy_loading_a_new_senders_member_event_comes_in_the_shared_response_as_the_store_path_writes_it()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var carol = await TestUsers.CreateAsync(Server, "carol");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        // Five members who joined first are the room's heroes, whose member events lazy-loading always sends.
        for (var i = 0; i < 5; i++) await Client(await TestUsers.CreateAsync(Server, $"hero{i}")).JoinAsync(roomId);
        await Client(bob).JoinAsync(roomId);
        await Client(carol).JoinAsync(roomId);
        await Client(alice).SendTextAsync(roomId, "hello");
        // The initial timeline holds only alice's message: the device is sent no member event of bob or carol.
        var filter = "filter=" + Uri.EscapeDataString("""{"room":{"state":{"lazy_load_members":true},"timeline":{"limit":1}}}""");
        var initial = await SyncPathAsync(alice, $"/_matrix/client/v3/sync?{filter}");
        var since = NextBatch(initial);
        var sync = "/_matrix/client/v3/sync?timeout=10000&" + filter + "&since=";

        using var meter = new SyncMeterRecorder();
        await Client(bob).SendTextAsync(roomId, "one");
        var first = await SyncPathAsync(alice, sync + Uri.EscapeDataString(since));
        await Client(carol).SendTextAsync(roomId, "two");
        var second = await SyncPathAsync(alice, sync + Uri.EscapeDataString(NextBatch(first)));
        await Client(bob).SendTextAsync(roomId, "three");
        var third = await SyncPathAsync(alice, sync + Uri.EscapeDataString(NextBatch(second)));

        Assert.Equal(0, meter.Total(SyncMetrics.StoreResponses));
        Assert.Equal([bob.UserId], MemberStateKeys(first, roomId));
        Assert.Equal([carol.UserId], MemberStateKeys(second, roomId));
        Assert.Empty(MemberStateKeys(third, roomId));
        Assert.Equal(["three"], Timeline(Joined(third, roomId)).GetProperty("events").EnumerateArray().Select(Body));

        // The store path of a new activation, from the same token, sends the same member events.
        await RestartAsync();
        var storeFilter = "filter=" + Uri.EscapeDataString("""{"room":{"state":{"lazy_load_members":true}}}""");
        var fromStore = Joined(await SyncPathAsync(alice, $"/_matrix/client/v3/sync?timeout=0&{storeFilter}&since={Uri.EscapeDataString(since)}"), roomId);
        Assert.Equal(
            new[] { first, second }.SelectMany(response => Joined(response, roomId).GetProperty("state").GetProperty("events").EnumerateArray()).Select(WithoutAge),
            fromStore.GetProperty("state").GetProperty("events").EnumerateArray().Select(WithoutAge));
        Assert.Equal(["one", "two", "three"], Timeline(fromStore).GetProperty("events").EnumerateArray().Select(Body));
    }

    [Fact]
    public async Task With_a_filter_leaving_presence_out_other_users_presence_changes_need_no_store_read()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        var filter = "filter=" + Uri.EscapeDataString("""{"presence":{"types":[]}}""");
        var since = NextBatch(await SyncPathAsync(alice, $"/_matrix/client/v3/sync?{filter}"));

        using var meter = new SyncMeterRecorder();
        var polling = SyncPathAsync(alice, $"/_matrix/client/v3/sync?timeout=10000&{filter}&since={Uri.EscapeDataString(since)}");
        var status = $"/presence/{Uri.EscapeDataString(bob.UserId)}/status";
        await Client(bob).OkAsync(HttpMethod.Put, status, new { presence = "unavailable" });
        await Client(bob).OkAsync(HttpMethod.Put, status, new { presence = "online", status_msg = "back" });
        await Task.Delay(200);
        Assert.False(polling.IsCompleted, "a presence change the filter leaves out must not end the long-poll");
        await Client(bob).SendTextAsync(roomId, "hello");
        var response = await polling;

        Assert.Equal(["hello"], Timeline(Joined(response, roomId)).GetProperty("events").EnumerateArray().Select(Body));
        Assert.False(response.TryGetProperty("presence", out var presence) && presence.GetProperty("events").GetArrayLength() > 0);
        Assert.Equal(0, meter.Total(SyncMetrics.StoreComputations));
        // The token moved past the presence changes: the next long-poll parks rather than waking for them again.
        var next = await SyncPathAsync(alice, $"/_matrix/client/v3/sync?timeout=300&{filter}&since={Uri.EscapeDataString(NextBatch(response))}");
        Assert.False(next.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.EnumerateObject().Any());
        Assert.Equal(0, meter.Total(SyncMetrics.StoreComputations));
    }

    [Fact]
    public async Task A_sync_right_after_a_send_was_answered_holds_the_event_whoever_sent_it()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        var since = NextBatch(await SyncAsync(alice, null));

        for (var i = 0; i < 30; i++)
        {
            await Client(i % 2 == 0 ? alice : bob).SendTextAsync(roomId, $"message {i}");
            // No waiting: the event was committed and handed to the members' sync grains before the send was answered.
            var sync = await SyncAsync(alice, since, "timeout=0");
            Assert.True(HasJoined(sync, roomId), $"message {i} missing from the sync right after its send");
            Assert.Equal([$"message {i}"], Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray().Select(Body));
            since = NextBatch(sync);
        }
    }

    private static List<string> MemberStateKeys(JsonElement sync, string roomId) =>
        Joined(sync, roomId).TryGetProperty("state", out var state)
            ? state.GetProperty("events").EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() == "m.room.member").Select(e => e.GetProperty("state_key").GetString()!).ToList()
            : [];

    /// <summary>
    /// Long-polls until <paramref name="count"/> messages of the rooms arrived, in arrival order; also the token after each
    /// response with how many messages had arrived by then.
    /// </summary>
    private async Task<(List<string> Bodies, List<(string Token, int Received)> Tokens)> CollectAsync(
        TestUser user, string since, string[] roomIds, int count, bool restartFirst = false)
    {
        if (restartFirst) await RestartAsync();
        var bodies = new List<string>();
        var tokens = new List<(string Token, int Received)>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (bodies.Count < count)
        {
            deadline.Token.ThrowIfCancellationRequested();
            var sync = await SyncAsync(user, since);
            since = NextBatch(sync);
            foreach (var roomId in roomIds.Where(roomId => HasJoined(sync, roomId)))
            {
                Assert.False(Timeline(Joined(sync, roomId)).GetProperty("limited").GetBoolean());
                bodies.AddRange(Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray()
                    .Where(e => e.GetProperty("type").GetString() == "m.room.message").Select(Body));
            }
            tokens.Add((since, bodies.Count));
        }
        return (bodies, tokens);
    }
}

/// <summary>Unread counts of shared responses, which a sync grain keeps from the notifications shared with the events (docs/adr/0029).</summary>
[Collection(SyncMeterCollection.Name)]
public abstract class SharedUnreadCountsTests : SyncTestBase
{
    private RoomsClient Client(TestUser user) => new(Server.Client, user);

    private async Task<JsonElement> SyncAsync(TestUser user, string? since)
    {
        var path = "/_matrix/client/v3/sync" + (since is null ? "" : $"?since={Uri.EscapeDataString(since)}&timeout=10000");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", user.AccessToken);
        using var response = await Server.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"sync: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    private static (long Notifications, long Highlights) Unread(JsonElement room)
    {
        var unread = room.GetProperty("unread_notifications");
        return (unread.GetProperty("notification_count").GetInt64(), unread.GetProperty("highlight_count").GetInt64());
    }

    /// <summary>Long-polls until a response holds the event, and returns that response's counts of the room.</summary>
    private async Task<((long, long) Unread, string NextBatch)> CountsWithAsync(TestUser user, string roomId, string since, string eventId)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            deadline.Token.ThrowIfCancellationRequested();
            var sync = await SyncAsync(user, since);
            since = NextBatch(sync);
            if (HasJoined(sync, roomId) && Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray()
                    .Any(e => e.GetProperty("event_id").GetString() == eventId))
                return (Unread(Joined(sync, roomId)), since);
        }
    }

    /// <summary>Long-polls until a response holds a receipt of the room; returns its token.</summary>
    private async Task<string> ReceiptReceivedAsync(TestUser user, string roomId, string since)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            deadline.Token.ThrowIfCancellationRequested();
            var sync = await SyncAsync(user, since);
            since = NextBatch(sync);
            if (HasJoined(sync, roomId) && Joined(sync, roomId).GetProperty("ephemeral").GetProperty("events").EnumerateArray()
                    .Any(e => e.GetProperty("type").GetString() == "m.receipt"))
                return since;
        }
    }

    /// <summary>The counts the store path gives: an initial sync.</summary>
    private async Task<(long, long)> StoreCountsAsync(TestUser user, string roomId) => Unread(Joined(await SyncAsync(user, null), roomId));

    [Fact]
    public async Task Shared_responses_count_each_notification_and_start_again_from_a_read_receipt_as_the_store_does()
    {
        var alice = await TestUsers.CreateAsync(Server, "alice");
        var bob = await TestUsers.CreateAsync(Server, "bob");
        var carol = await TestUsers.CreateAsync(Server, "carol");
        var roomId = await Client(alice).CreateRoomAsync(new { preset = "public_chat" });
        await Client(bob).JoinAsync(roomId);
        await Client(carol).JoinAsync(roomId);
        var since = NextBatch(await SyncAsync(alice, null));
        using var meter = new SyncMeterRecorder();

        async Task<(long, long)> DeliveredAsync(Task<string> sending)
        {
            var eventId = await sending;
            (var unread, since) = await CountsWithAsync(alice, roomId, since, eventId);
            Assert.Equal(await StoreCountsAsync(alice, roomId), unread);
            return unread;
        }

        Assert.Equal((1, 0), await DeliveredAsync(Client(bob).SendTextAsync(roomId, "one")));
        var mention = await DeliveredAsync(Client(carol).SendAsync(roomId, new Dictionary<string, object>
        {
            ["msgtype"] = "m.text", ["body"] = "a question", ["m.mentions"] = new { user_ids = new[] { alice.UserId } },
        }));
        Assert.Equal((2, 1), mention);
        // The sender's own message and a notice notify no one; a thread reply counts in the room's total.
        Assert.Equal((2, 1), await DeliveredAsync(Client(alice).SendTextAsync(roomId, "mine")));
        var root = await Client(bob).SendTextAsync(roomId, "root");
        Assert.Equal((4, 1), await DeliveredAsync(Client(bob).SendAsync(roomId, new Dictionary<string, object>
        {
            ["msgtype"] = "m.text", ["body"] = "in the thread", ["m.relates_to"] = new { rel_type = "m.thread", event_id = root },
        })));
        var sharedBefore = meter.Total(SyncMetrics.SharedResponses);
        Assert.True(sharedBefore > 0);

        var read = await Client(bob).SendTextAsync(roomId, "read up to here");
        await Client(alice).OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/receipt/m.read/{Uri.EscapeDataString(read)}", new { });
        Assert.Equal((0, 0), await StoreCountsAsync(alice, roomId));
        since = await ReceiptReceivedAsync(alice, roomId, since);
        Assert.Equal((1, 0), await DeliveredAsync(Client(bob).SendTextAsync(roomId, "after the receipt")));
        Assert.Equal((2, 0), await DeliveredAsync(Client(carol).SendTextAsync(roomId, "and another")));
        Assert.True(meter.Total(SyncMetrics.SharedResponses) > sharedBefore);
    }
}

public sealed class SqliteSharedUnreadCountsTests : SharedUnreadCountsTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSharedUnreadCountsTests : SharedUnreadCountsTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

public sealed class SqliteSharedDeliveryTests : SharedDeliveryTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSharedDeliveryTests : SharedDeliveryTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
