using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

public abstract class SyncFilterTests : SyncTestBase
{
    private static string Inline(string json) => "filter=" + Uri.EscapeDataString(json);

    [Fact]
    public async Task A_stored_filter_applies_its_timeline_limit_and_types()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 4);
        var filterId = await alice.CreateFilterAsync(JsonNode.Parse("{\"room\":{\"timeline\":{\"limit\":3,\"types\":[\"m.room.*\"],\"not_types\":[\"m.room.member\"]}}}")!);

        var sync = await alice.SyncAsync("filter=" + filterId);

        var events = Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(3, events.Count);
        Assert.All(events, e => Assert.Equal("m.room.message", e.GetProperty("type").GetString()));
        Assert.True(Timeline(Joined(sync, roomId)).GetProperty("limited").GetBoolean());
    }

    [Fact]
    public async Task Senders_and_not_senders_select_timeline_events()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId);
        await Rooms.SetMembershipAsync(roomId, bob.UserId, bob.UserId, "join");
        var start = await alice.SyncAsync();
        await Rooms.SendMessageAsync(roomId, alice.UserId, "from alice");
        await Rooms.SendMessageAsync(roomId, bob.UserId, "from bob");

        var onlyBob = await alice.SyncSinceAsync(NextBatch(start), Inline($"{{\"room\":{{\"timeline\":{{\"senders\":[\"{bob.UserId}\"]}}}}}}"));
        var notBob = await alice.SyncSinceAsync(NextBatch(start), Inline($"{{\"room\":{{\"timeline\":{{\"not_senders\":[\"{bob.UserId}\"]}}}}}}"));

        Assert.Equal(["from bob"], Bodies(Joined(onlyBob, roomId)));
        Assert.Equal(["from alice"], Bodies(Joined(notBob, roomId)));
    }

    [Fact]
    public async Task Room_lists_leave_out_rooms_everywhere()
    {
        var alice = await RegisterAsync("alice");
        var wanted = await Rooms.CreateRoomAsync(alice.UserId);
        var unwanted = await Rooms.CreateRoomAsync(alice.UserId);

        var included = await alice.SyncAsync(Inline($"{{\"room\":{{\"rooms\":[\"{wanted}\"]}}}}"));
        var excluded = await alice.SyncAsync(Inline($"{{\"room\":{{\"not_rooms\":[\"{wanted}\"]}}}}"));

        Assert.True(HasJoined(included, wanted));
        Assert.False(HasJoined(included, unwanted));
        Assert.False(HasJoined(excluded, wanted));
        Assert.True(HasJoined(excluded, unwanted));
    }

    [Fact]
    public async Task State_and_account_data_filters_and_empty_ephemeral_types()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await Rooms.CreateRoomAsync(alice.UserId, name: "Named");
        await Rooms.SendMessagesAsync(roomId, alice.UserId, 12);
        await alice.SetAccountDataAsync("org.example.keep", new JsonObject { ["a"] = 1 });
        await alice.SetAccountDataAsync("org.example.drop", new JsonObject { ["b"] = 2 });

        var sync = await alice.SyncAsync(Inline(
            "{\"account_data\":{\"not_types\":[\"org.example.drop\"]},\"room\":{\"state\":{\"types\":[\"m.room.name\"]}}}"));

        Assert.Equal([("m.room.name", "")], StateKeys(Joined(sync, roomId)));
        var types = sync.GetProperty("account_data").GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Contains("org.example.keep", types);
        Assert.DoesNotContain("org.example.drop", types);
    }

    [Fact]
    public async Task A_timeline_limit_of_zero_gives_an_empty_limited_timeline_with_the_state()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { name = "Zero" });
        await alice.Rooms.SendTextAsync(roomId, "one");
        // As a client sends it: an inline filter, URL-encoded in the query string.
        var filter = Inline("{\"room\":{\"state\":{\"types\":[\"m.room.member\"]},\"timeline\":{\"limit\":0}}}");

        var initial = await alice.SyncAsync(filter);
        var room = Joined(initial, roomId);
        Assert.Empty(Timeline(room).GetProperty("events").EnumerateArray());
        Assert.True(Timeline(room).GetProperty("limited").GetBoolean());
        Assert.Equal([("m.room.member", alice.UserId)], StateKeys(room));

        // New messages alone bring nothing with a limit of 0 (as Synapse: a room without updates is left out).
        await alice.Rooms.SendTextAsync(roomId, "two");
        var quiet = await alice.SyncSinceAsync(NextBatch(initial), filter);
        Assert.False(HasJoined(quiet, roomId));
        // A state change the filter asks for does: the room comes with it in state, its empty timeline limited and
        // with a prev_batch from which the client pages back to what it left out.
        await alice.Rooms.OkAsync(HttpMethod.Put, $"/profile/{Uri.EscapeDataString(alice.UserId)}/displayname", new { displayname = "Alice Zero" });
        var incremental = await alice.SyncSinceAsync(NextBatch(quiet), filter + "&timeout=5000");
        var changed = Joined(incremental, roomId);
        var timeline = Timeline(changed);
        Assert.Empty(timeline.GetProperty("events").EnumerateArray());
        Assert.True(timeline.GetProperty("limited").GetBoolean());
        Assert.Equal([("m.room.member", alice.UserId)], StateKeys(changed));
        var earlier = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=2&from={Uri.EscapeDataString(timeline.GetProperty("prev_batch").GetString()!)}");
        Assert.Equal(["m.room.member", "m.room.message"], earlier.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList());

        var stored = await alice.CreateFilterAsync(JsonNode.Parse("{\"room\":{\"timeline\":{\"limit\":0}}}")!);
        var withStored = await alice.SyncAsync("filter=" + stored);
        Assert.Empty(Timeline(Joined(withStored, roomId)).GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task An_inline_filter_may_be_sent_unencoded_or_encoded_and_a_bad_one_is_refused()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync();
        await alice.Rooms.SendTextAsync(roomId, "hello");

        var raw = await alice.SyncAsync("filter={\"room\":{\"timeline\":{\"limit\":1}}}");
        var encoded = await alice.SyncAsync(Inline("{\"room\":{\"timeline\":{\"limit\":1}}}"));

        Assert.Equal(["hello"], Bodies(Joined(raw, roomId)));
        Assert.Equal(["hello"], Bodies(Joined(encoded, roomId)));
        var badShape = await alice.GetAsync("/_matrix/client/v3/sync?" + Inline("{\"room\":{\"timeline\":{\"limit\":-1}}}"));
        await badShape.AssertErrorAsync(System.Net.HttpStatusCode.BadRequest, "M_BAD_JSON");
        var notJson = await alice.GetAsync("/_matrix/client/v3/sync?" + Inline("{\"room\":"));
        await notJson.AssertErrorAsync(System.Net.HttpStatusCode.BadRequest, "M_NOT_JSON");
    }

    [Fact]
    public async Task Event_format_federation_gives_the_events_as_stored_pdus_in_every_section()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { name = "Pdus" });
        var federation = Inline("{\"event_format\":\"federation\",\"room\":{\"timeline\":{\"limit\":2}}}");
        var sentId = await alice.Rooms.SendAsync(roomId, new { msgtype = "m.text", body = "first" }, txnId: "tx1");

        var initial = await alice.SyncAsync(federation);
        var room = Joined(initial, roomId);
        var events = Timeline(room).GetProperty("events").EnumerateArray()
            .Concat(room.GetProperty("state").GetProperty("events").EnumerateArray()).ToList();
        Assert.NotEmpty(room.GetProperty("state").GetProperty("events").EnumerateArray());
        foreach (var e in events) AssertPdu(e, roomId);
        var sent = Timeline(room).GetProperty("events").EnumerateArray().Single(e => e.GetProperty("event_id").GetString() == sentId);
        Assert.Equal("tx1", sent.GetProperty("unsigned").GetProperty("transaction_id").GetString());

        // An incremental sync that could be answered from the rooms' shared client events is in the same format.
        await alice.Rooms.SendTextAsync(roomId, "second");
        // The room wakes the sync grain after acknowledging the send, so the sync waits for it rather than asking once.
        var incremental = await alice.SyncSinceAsync(NextBatch(initial), federation + "&timeout=5000");
        var next = Assert.Single(Timeline(Joined(incremental, roomId)).GetProperty("events").EnumerateArray());
        AssertPdu(next, roomId);

        var client = await alice.SyncAsync(Inline("{\"event_format\":\"client\"}"));
        foreach (var e in Timeline(Joined(client, roomId)).GetProperty("events").EnumerateArray())
        {
            Assert.False(e.TryGetProperty("hashes", out _));
            Assert.False(e.TryGetProperty("room_id", out _));
        }
    }

    private static void AssertPdu(System.Text.Json.JsonElement e, string roomId)
    {
        Assert.Equal(roomId, e.GetProperty("room_id").GetString());
        foreach (var field in new[] { "event_id", "hashes", "signatures", "auth_events", "prev_events", "depth", "origin_server_ts", "sender", "type", "content", "unsigned" })
            Assert.True(e.TryGetProperty(field, out _), $"{field} in {e}");
        Assert.True(e.GetProperty("unsigned").TryGetProperty("age", out _));
        Assert.False(e.GetProperty("unsigned").TryGetProperty("hs.transaction", out _));
    }

    [Fact]
    public async Task Event_fields_keep_only_the_listed_fields_of_each_event()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { name = "Fields" });
        await alice.Rooms.SendTextAsync(roomId, "kept");

        var sync = await alice.SyncAsync(Inline("{\"event_fields\":[\"type\",\"content.body\",\"content.name\",\"no.such\"]}"));

        var room = Joined(sync, roomId);
        var message = Timeline(room).GetProperty("events").EnumerateArray().Last();
        Assert.Equal("{\"type\":\"m.room.message\",\"content\":{\"body\":\"kept\"}}", message.GetRawText());
        var name = room.GetProperty("state").GetProperty("events").EnumerateArray()
            .Concat(Timeline(room).GetProperty("events").EnumerateArray())
            .First(e => e.GetProperty("type").GetString() == "m.room.name");
        Assert.Equal("{\"type\":\"m.room.name\",\"content\":{\"name\":\"Fields\"}}", name.GetRawText());
    }
}

public sealed class SqliteSyncFilterTests : SyncFilterTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncFilterTests : SyncFilterTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
