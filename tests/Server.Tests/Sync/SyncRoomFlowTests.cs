using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Sync through the real room endpoints: what each member sees as rooms change.</summary>
public abstract class SyncRoomFlowTests : SyncTestBase
{
    [Fact]
    public async Task An_invite_shows_stripped_state_then_joining_brings_the_full_room_and_a_kick_moves_it_to_leave()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { name = "Plans", preset = "private_chat" });
        var bobInitial = await bob.SyncAsync();
        Assert.Equal(0, RoomCount(bobInitial, "invite"));

        await alice.Rooms.InviteAsync(roomId, bob.UserId);
        var invited = await bob.SyncSinceAsync(NextBatch(bobInitial), "timeout=5000");
        var inviteState = invited.GetProperty("rooms").GetProperty("invite").GetProperty(roomId).GetProperty("invite_state").GetProperty("events");
        var stripped = inviteState.EnumerateArray().ToList();
        Assert.Contains(stripped, e => e.GetProperty("type").GetString() == "m.room.name" && e.GetProperty("content").GetProperty("name").GetString() == "Plans");
        Assert.Contains(stripped, e => e.GetProperty("type").GetString() == "m.room.create");
        Assert.Contains(stripped, e => e.GetProperty("type").GetString() == "m.room.join_rules");
        var invite = stripped.Single(e => e.GetProperty("type").GetString() == "m.room.member");
        Assert.Equal(bob.UserId, invite.GetProperty("state_key").GetString());
        Assert.Equal(alice.UserId, invite.GetProperty("sender").GetString());
        Assert.Equal("invite", invite.GetProperty("content").GetProperty("membership").GetString());
        Assert.All(stripped, e => Assert.Equal(["content", "sender", "state_key", "type"], e.EnumerateObject().Select(p => p.Name).Order()));
        Assert.False(HasJoined(invited, roomId));

        await bob.Rooms.JoinAsync(roomId);
        var joined = await bob.SyncSinceAsync(NextBatch(invited), "timeout=5000");
        var room = Joined(joined, roomId);
        var everything = StateKeys(room).Concat(TimelineStateKeys(room)).ToList();
        Assert.Contains(("m.room.create", ""), everything);
        Assert.Contains(("m.room.power_levels", ""), everything);
        Assert.Contains(("m.room.name", ""), everything);
        Assert.Contains(("m.room.member", alice.UserId), everything);
        Assert.Contains(("m.room.member", bob.UserId), TimelineStateKeys(room));
        Assert.Equal(2, room.GetProperty("summary").GetProperty("m.joined_member_count").GetInt32());
        Assert.Equal(0, RoomCount(joined, "invite"));

        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/kick", new { user_id = bob.UserId, reason = "done" });
        var kicked = await bob.SyncSinceAsync(NextBatch(joined), "timeout=5000");
        var left = kicked.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        var last = Timeline(left).GetProperty("events").EnumerateArray().Last();
        Assert.Equal("m.room.member", last.GetProperty("type").GetString());
        Assert.Equal("leave", last.GetProperty("content").GetProperty("membership").GetString());
        Assert.Equal(alice.UserId, last.GetProperty("sender").GetString());
        Assert.False(HasJoined(kicked, roomId));

        await alice.Rooms.SendTextAsync(roomId, "after bob left");
        var later = await bob.SyncSinceAsync(NextBatch(kicked));
        Assert.Equal(0, RoomCount(later, "leave"));
        Assert.False(HasJoined(later, roomId));

        var withoutLeave = await bob.SyncAsync();
        Assert.Equal(0, RoomCount(withoutLeave, "leave"));
        var withLeave = await bob.SyncAsync("filter=" + Uri.EscapeDataString("{\"room\":{\"include_leave\":true}}"));
        var archived = withLeave.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        Assert.Equal("leave", Timeline(archived).GetProperty("events").EnumerateArray().Last().GetProperty("content").GetProperty("membership").GetString());
        Assert.DoesNotContain("after bob left", Bodies(archived));
    }

    [Fact]
    public async Task Typing_receipts_redactions_and_display_names_reach_the_other_member()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var start = await alice.SyncAsync();
        var escaped = Uri.EscapeDataString(roomId);

        await bob.Rooms.OkAsync(HttpMethod.Put, $"/rooms/{escaped}/typing/{Uri.EscapeDataString(bob.UserId)}", new { typing = true, timeout = 30000 });
        var typing = await alice.SyncSinceAsync(NextBatch(start), "timeout=5000");
        Assert.Equal([bob.UserId], TypingUsers(Joined(typing, roomId)));

        await bob.Rooms.OkAsync(HttpMethod.Put, $"/rooms/{escaped}/typing/{Uri.EscapeDataString(bob.UserId)}", new { typing = false });
        var stopped = await alice.SyncSinceAsync(NextBatch(typing), "timeout=5000");
        Assert.Equal([], TypingUsers(Joined(stopped, roomId)));

        var messageId = await alice.Rooms.SendTextAsync(roomId, "secret");
        await bob.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{escaped}/receipt/m.read/{Uri.EscapeDataString(messageId)}", new { });
        var read = await alice.SyncSinceAsync(NextBatch(stopped), "timeout=5000");
        var receipts = await WaitForAsync(alice, read, sync => ReceiptOf(sync, roomId, messageId, bob.UserId) is not null);
        Assert.True(ReceiptOf(receipts, roomId, messageId, bob.UserId)!.Value.GetProperty("ts").GetInt64() > 0);

        await alice.Rooms.OkAsync(HttpMethod.Put, $"/rooms/{escaped}/redact/{Uri.EscapeDataString(messageId)}/{alice.Rooms.NextTxnId()}", new { reason = "oops" });
        var redacted = await alice.SyncSinceAsync(NextBatch(receipts), "timeout=5000");
        var redaction = Timeline(Joined(redacted, roomId)).GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "m.room.redaction");
        // Room version 11 names the redacted event in content, earlier versions at the top level.
        var redacts = redaction.GetProperty("content").TryGetProperty("redacts", out var inContent) ? inContent : redaction.GetProperty("redacts");
        Assert.Equal(messageId, redacts.GetString());
        var fresh = await bob.SyncAsync();
        var original = Timeline(Joined(fresh, roomId)).GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("event_id").GetString() == messageId);
        Assert.Empty(original.GetProperty("content").EnumerateObject());

        await bob.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/profile/{Uri.EscapeDataString(bob.UserId)}/displayname",
            System.Text.Json.Nodes.JsonNode.Parse("{\"displayname\":\"Bobby\"}"));
        var renamed = await WaitForAsync(alice, redacted, sync =>
            HasJoined(sync, roomId) && Timeline(Joined(sync, roomId)).GetProperty("events").EnumerateArray().Any(IsBobbyMember));
        Assert.Contains(Timeline(Joined(renamed, roomId)).GetProperty("events").EnumerateArray(), IsBobbyMember);

        bool IsBobbyMember(JsonElement e) =>
            e.GetProperty("type").GetString() == "m.room.member" && e.GetProperty("state_key").GetString() == bob.UserId
            && e.GetProperty("content").TryGetProperty("displayname", out var name) && name.GetString() == "Bobby";
    }

    [Fact]
    public async Task The_prev_batch_of_a_limited_timeline_continues_with_messages_just_before_it()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync();
        var start = await alice.SyncAsync();
        // More than a sync delivers whole, so the timeline is limited to the newest 5.
        for (var i = 1; i <= 105; i++) await alice.Rooms.SendTextAsync(roomId, $"message {i}");

        var sync = await alice.SyncSinceAsync(NextBatch(start), "filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":5}}}"));

        var room = Joined(sync, roomId);
        Assert.True(Timeline(room).GetProperty("limited").GetBoolean());
        Assert.Equal(Enumerable.Range(101, 5).Select(i => $"message {i}"), Bodies(room));
        var prevBatch = Timeline(room).GetProperty("prev_batch").GetString()!;
        var page = await alice.Rooms.MessagesAsync(roomId, $"dir=b&limit=4&from={Uri.EscapeDataString(prevBatch)}");
        var older = page.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("content").GetProperty("body").GetString()).ToList();
        Assert.Equal(["message 100", "message 99", "message 98", "message 97"], older);
    }

    [Fact]
    public async Task Lazy_loading_sends_only_the_members_needed_and_each_only_once()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        var others = new List<SyncUser>();
        foreach (var name in new[] { "bob", "carol", "dave", "erin", "frank", "gina" })
        {
            var user = await RegisterAsync(name);
            await user.Rooms.JoinAsync(roomId);
            others.Add(user);
        }
        var (bob, carol, gina) = (others[0], others[1], others[5]);
        await bob.Rooms.SendTextAsync(roomId, "hello from bob");
        var lazy = "filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":1},\"state\":{\"lazy_load_members\":true}}}");

        var initial = await carol.SyncAsync(lazy);

        var members = StateKeys(Joined(initial, roomId)).Where(k => k.Type == "m.room.member").Select(k => k.StateKey).ToList();
        var heroes = Joined(initial, roomId).GetProperty("summary").GetProperty("m.heroes").EnumerateArray().Select(h => h.GetString()!).ToList();
        Assert.Equal(5, heroes.Count);
        Assert.DoesNotContain(gina.UserId, heroes);
        Assert.Contains(bob.UserId, members);
        Assert.Contains(carol.UserId, members);
        Assert.DoesNotContain(gina.UserId, members);
        Assert.Equal(7, Joined(initial, roomId).GetProperty("summary").GetProperty("m.joined_member_count").GetInt32());

        await gina.Rooms.SendTextAsync(roomId, "first from gina");
        var first = await carol.SyncSinceAsync(NextBatch(initial), lazy + "&timeout=5000");
        Assert.Contains(("m.room.member", gina.UserId), StateKeys(Joined(first, roomId)));

        await gina.Rooms.SendTextAsync(roomId, "second from gina");
        var second = await carol.SyncSinceAsync(NextBatch(first), lazy + "&timeout=5000");
        Assert.Equal(["second from gina"], Bodies(Joined(second, roomId)));
        Assert.DoesNotContain(("m.room.member", gina.UserId), StateKeys(Joined(second, roomId)));

        var full = await carol.SyncAsync();
        Assert.Equal(7, StateKeys(Joined(full, roomId)).Count(k => k.Type == "m.room.member")
            + TimelineStateKeys(Joined(full, roomId)).Count(k => k.Type == "m.room.member"));
    }

    private static List<(string Type, string StateKey)> TimelineStateKeys(JsonElement room) =>
        Timeline(room).GetProperty("events").EnumerateArray()
            .Where(e => e.TryGetProperty("state_key", out _))
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("state_key").GetString()!))
            .ToList();

    private static List<string> TypingUsers(JsonElement room) =>
        room.GetProperty("ephemeral").GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "m.typing")
            .GetProperty("content").GetProperty("user_ids").EnumerateArray().Select(u => u.GetString()!).ToList();

    private static JsonElement? ReceiptOf(JsonElement sync, string roomId, string eventId, string userId)
    {
        if (!HasJoined(sync, roomId)) return null;
        foreach (var e in Joined(sync, roomId).GetProperty("ephemeral").GetProperty("events").EnumerateArray())
        {
            if (e.GetProperty("type").GetString() == "m.receipt"
                && e.GetProperty("content").TryGetProperty(eventId, out var byType)
                && byType.TryGetProperty("m.read", out var byUser) && byUser.TryGetProperty(userId, out var receipt))
            {
                return receipt;
            }
        }
        return null;
    }

    /// <summary>Syncs on from <paramref name="after"/> until a response satisfies the condition (at most a few rounds).</summary>
    private static async Task<JsonElement> WaitForAsync(SyncUser user, JsonElement after, Func<JsonElement, bool> condition)
    {
        if (condition(after)) return after;
        var current = after;
        for (var round = 0; round < 10; round++)
        {
            current = await user.SyncSinceAsync(NextBatch(current), "timeout=3000");
            if (condition(current)) return current;
        }
        Assert.Fail("the expected change never arrived");
        return current;
    }
}

public sealed class SqliteSyncRoomFlowTests : SyncRoomFlowTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncRoomFlowTests : SyncRoomFlowTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
