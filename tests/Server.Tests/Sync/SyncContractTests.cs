using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// The rows of docs/sync-contract.md, one test each: for each case, what the timeline, limited, prev_batch, state,
/// summary and lazy-loaded members of a /sync response hold, as a client sees them through the real endpoints.
/// </summary>
public abstract class SyncContractTests : SyncTestBase
{
    private const string Lazy = "\"state\":{\"lazy_load_members\":true}";

    private static string Filter(string roomFilter) => "filter=" + Uri.EscapeDataString("{\"room\":{" + roomFilter + "}}");

    private static string Limit(int limit) => $"\"timeline\":{{\"limit\":{limit}}}";

    [Fact]
    public async Task Initial_sync_gives_each_joined_room_a_prev_batch_from_which_messages_pages_back_even_when_its_timeline_is_empty()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        foreach (var body in new[] { "one", "two", "three" }) await alice.Rooms.SendTextAsync(roomId, body);

        var room = Joined(await alice.SyncAsync(Filter(Limit(2))), roomId);
        Assert.Equal(["two", "three"], Bodies(room));
        Assert.True(Limited(room));
        Assert.Equal(["one"], await BodiesBeforeAsync(alice, roomId, PrevBatch(room), 1));

        var empty = Joined(await alice.SyncAsync(Filter("\"timeline\":{\"types\":[\"org.example.nothing\"]}")), roomId);
        Assert.Empty(TimelineEvents(empty));
        Assert.Equal(["three"], await BodiesBeforeAsync(alice, roomId, PrevBatch(empty), 1));
    }

    [Fact]
    public async Task A_full_state_sync_carries_all_state_and_a_prev_batch_for_every_room_even_without_new_events()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Full" });
        await alice.Rooms.SendTextAsync(roomId, "before");
        var initial = await alice.SyncAsync();

        var quiet = Joined(await alice.SyncSinceAsync(NextBatch(initial), "full_state=true"), roomId);
        Assert.Empty(TimelineEvents(quiet));
        Assert.False(Limited(quiet));
        Assert.Equal(["before"], await BodiesBeforeAsync(alice, roomId, PrevBatch(quiet), 1));
        Assert.Subset(StateKeys(quiet).ToHashSet(),
            new[] { ("m.room.create", ""), ("m.room.name", ""), ("m.room.power_levels", ""), ("m.room.join_rules", ""), ("m.room.member", alice.UserId) }.ToHashSet());

        await alice.Rooms.SendTextAsync(roomId, "after");
        var busy = Joined(await alice.SyncSinceAsync(NextBatch(initial), "full_state=true"), roomId);
        Assert.Equal(["after"], Bodies(busy));
        Assert.Contains(("m.room.name", ""), StateKeys(busy));
        Assert.Empty(EventIds(busy.GetProperty("state")).Intersect(EventIds(Timeline(busy))));
    }

    [Fact]
    public async Task An_incremental_sync_within_the_limit_is_not_limited_and_its_state_changes_are_in_the_timeline_only()
    {
        var alice = await RegisterAsync("alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        var initial = await alice.SyncAsync();
        await alice.Rooms.SetStateAsync(roomId, "m.room.topic", new { topic = "Now" });
        await alice.Rooms.SendTextAsync(roomId, "hello");

        var room = Joined(await alice.SyncSinceAsync(NextBatch(initial), Filter(Limit(5))), roomId);

        Assert.False(Limited(room));
        Assert.Equal(["m.room.topic", "m.room.message"], TimelineEvents(room).Select(e => e.GetProperty("type").GetString()!).ToList());
        Assert.Empty(StateKeys(room));
        Assert.False(room.TryGetProperty("summary", out var summary) && summary.EnumerateObject().Any());
    }

    [Fact]
    public async Task A_gapped_incremental_sync_is_limited_and_its_state_holds_each_change_of_the_gap_once_and_none_of_the_timeline()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var initial = await alice.SyncAsync(Filter(Limit(5)));
        await alice.Rooms.SetStateAsync(roomId, "m.room.name", new { name = "In the gap" });
        await carol.Rooms.JoinAsync(roomId);
        await bob.Rooms.SetStateAsync(roomId, "m.room.member", new { membership = "join", displayname = "Bobby" }, bob.UserId);
        for (var i = 1; i <= 6; i++) await alice.Rooms.SendTextAsync(roomId, $"gap {i}");
        await alice.Rooms.SetStateAsync(roomId, "m.room.name", new { name = "In the timeline" });
        await carol.Rooms.SetStateAsync(roomId, "m.room.member", new { membership = "join", displayname = "Carol" }, carol.UserId);
        for (var i = 1; i <= 3; i++) await alice.Rooms.SendTextAsync(roomId, $"timeline {i}");

        var room = Joined(await alice.SyncSinceAsync(NextBatch(initial), Filter(Limit(5))), roomId);

        Assert.True(Limited(room));
        Assert.Equal(["timeline 1", "timeline 2", "timeline 3"], Bodies(room));
        var state = StateEvents(room);
        // The state at the start of the timeline, as far as it changed in the gap: the name and members then.
        Assert.Equal("In the gap", state.Single(e => Key(e) == ("m.room.name", "")).GetProperty("content").GetProperty("name").GetString());
        Assert.Equal("Bobby", state.Single(e => Key(e) == ("m.room.member", bob.UserId)).GetProperty("content").GetProperty("displayname").GetString());
        var carolThen = state.Single(e => Key(e) == ("m.room.member", carol.UserId)).GetProperty("content");
        Assert.Equal("join", carolThen.GetProperty("membership").GetString());
        Assert.NotEqual("Carol", carolThen.TryGetProperty("displayname", out var name) ? name.GetString() : null);
        Assert.DoesNotContain(("m.room.member", alice.UserId), StateKeys(room));
        Assert.Equal(state.Count, state.Select(Key).Distinct().Count());
        Assert.Empty(EventIds(room.GetProperty("state")).Intersect(EventIds(Timeline(room))));
        Assert.Equal(["gap 6"], await BodiesBeforeAsync(alice, roomId, PrevBatch(room), 1));
        Assert.Equal(3, room.GetProperty("summary").GetProperty("m.joined_member_count").GetInt32());
    }

    [Fact]
    public async Task A_room_joined_since_the_token_comes_whole_and_is_limited_unless_its_timeline_starts_at_the_rooms_creation()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        for (var i = 1; i <= 4; i++) await alice.Rooms.SendTextAsync(roomId, $"old {i}");
        var since = NextBatch(await bob.SyncAsync());
        for (var i = 1; i <= 4; i++) await alice.Rooms.SendTextAsync(roomId, $"new {i}");
        await bob.Rooms.JoinAsync(roomId);
        var created = await bob.Rooms.CreateRoomAsync(new { preset = "private_chat" });

        var sync = await bob.SyncSinceAsync(since, Filter("\"timeline\":{\"limit\":10}"));

        var room = Joined(sync, roomId);
        Assert.Equal(["new 1", "new 2", "new 3", "new 4"], Bodies(room));
        Assert.True(Limited(room));
        Assert.Equal(["old 4", "old 3", "old 2", "old 1"], await BodiesBeforeAsync(bob, roomId, PrevBatch(room), 4));
        Assert.Contains(("m.room.create", ""), StateKeys(room));
        Assert.Contains(("m.room.member", alice.UserId), StateKeys(room));
        Assert.Equal(2, room.GetProperty("summary").GetProperty("m.joined_member_count").GetInt32());
        var own = Joined(sync, created);
        Assert.Equal("m.room.create", TimelineEvents(own)[0].GetProperty("type").GetString());
        Assert.False(Limited(own));
        Assert.False(HasJoined(await bob.SyncSinceAsync(NextBatch(sync)), roomId));
    }

    [Fact]
    public async Task An_invite_then_a_join_move_the_room_from_invite_to_join_with_full_state_also_when_both_are_in_one_batch()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Plans" });
        await alice.Rooms.SendTextAsync(roomId, "agenda");
        var bobSince = NextBatch(await bob.SyncAsync());
        var carolSince = NextBatch(await carol.SyncAsync());

        await alice.Rooms.InviteAsync(roomId, bob.UserId);
        var invited = await bob.SyncSinceAsync(bobSince, "timeout=5000");
        Assert.True(invited.GetProperty("rooms").GetProperty("invite").TryGetProperty(roomId, out _));
        await bob.Rooms.JoinAsync(roomId);
        var joined = await bob.SyncSinceAsync(NextBatch(invited), "timeout=5000");
        await alice.Rooms.InviteAsync(roomId, carol.UserId);
        await carol.Rooms.JoinAsync(roomId);
        var carolSync = await carol.SyncSinceAsync(carolSince);

        foreach (var (sync, user) in new[] { (joined, bob), (carolSync, carol) })
        {
            Assert.Equal(0, RoomCount(sync, "invite"));
            var room = Joined(sync, roomId);
            Assert.Subset(StateKeys(room).ToHashSet(),
                new[] { ("m.room.create", ""), ("m.room.name", ""), ("m.room.power_levels", ""), ("m.room.member", alice.UserId) }.ToHashSet());
            var ownJoin = TimelineEvents(room).Last(e => Key(e) == ("m.room.member", user.UserId));
            Assert.Equal("join", ownJoin.GetProperty("content").GetProperty("membership").GetString());
            Assert.True(Limited(room));
            Assert.Contains("agenda", await BodiesBeforeAsync(user, roomId, PrevBatch(room), 10));
        }
    }

    [Fact]
    public async Task A_knock_shows_the_room_under_knock_with_stripped_state_and_a_refusal_shows_only_the_leave()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "private_chat", name = "Door",
            initial_state = new[] { new { type = "m.room.join_rules", state_key = "", content = new { join_rule = "knock" } } },
        });
        await alice.Rooms.SendTextAsync(roomId, "members only");
        var since = NextBatch(await bob.SyncAsync());

        await bob.Rooms.OkAsync(HttpMethod.Post, $"/knock/{Uri.EscapeDataString(roomId)}", new { reason = "let me in" });
        var knocked = await bob.SyncSinceAsync(since, "timeout=5000");
        var knockState = knocked.GetProperty("rooms").GetProperty("knock").GetProperty(roomId).GetProperty("knock_state").GetProperty("events")
            .EnumerateArray().ToList();
        Assert.Contains(knockState, e => Key(e) == ("m.room.name", "") && e.GetProperty("content").GetProperty("name").GetString() == "Door");
        Assert.Contains(knockState, e => Key(e) == ("m.room.member", bob.UserId) && e.GetProperty("content").GetProperty("membership").GetString() == "knock");
        Assert.Equal(0, RoomCount(knocked, "join") + RoomCount(knocked, "invite") + RoomCount(knocked, "leave"));
        var initial = await bob.SyncAsync();
        Assert.True(initial.GetProperty("rooms").GetProperty("knock").TryGetProperty(roomId, out _));

        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/kick", new { user_id = bob.UserId, reason = "not today" });
        var refused = await bob.SyncSinceAsync(NextBatch(knocked), "timeout=5000");
        var left = refused.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        var only = Assert.Single(TimelineEvents(left));
        Assert.Equal(("m.room.member", bob.UserId), Key(only));
        Assert.Equal("leave", only.GetProperty("content").GetProperty("membership").GetString());
        Assert.Empty(Bodies(left));
        Assert.Equal(0, RoomCount(refused, "knock"));
    }

    [Fact]
    public async Task A_join_and_leave_in_one_batch_show_the_room_under_leave_with_its_state_up_to_the_leave_and_then_not_at_all()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Brief" });
        await alice.Rooms.SetStateAsync(roomId, "org.example.state", new { key = 1 });
        await alice.Rooms.InviteAsync(roomId, bob.UserId);
        var onlyCustomState = Filter("\"timeline\":{\"types\":[]},\"state\":{\"types\":[\"org.example.state\"]},\"include_leave\":true");
        var since = NextBatch(await bob.SyncAsync(onlyCustomState));
        await bob.Rooms.JoinAsync(roomId);
        await bob.Rooms.SendTextAsync(roomId, "hello and bye");
        await bob.Rooms.LeaveAsync(roomId);
        await alice.Rooms.SetStateAsync(roomId, "org.example.state", new { key = 2 });

        var filtered = await bob.SyncSinceAsync(since, onlyCustomState);
        var left = filtered.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        var custom = Assert.Single(StateEvents(left));
        Assert.Equal(1, custom.GetProperty("content").GetProperty("key").GetInt32());
        Assert.False(HasJoined(filtered, roomId));

        var plain = await bob.SyncSinceAsync(since);
        var room = plain.GetProperty("rooms").GetProperty("leave").GetProperty(roomId);
        Assert.Subset(StateKeys(room).ToHashSet(), new[] { ("m.room.create", ""), ("m.room.name", ""), ("m.room.member", alice.UserId) }.ToHashSet());
        Assert.Equal(["hello and bye"], Bodies(room));
        var last = TimelineEvents(room)[^1];
        Assert.Equal((("m.room.member", bob.UserId), "leave"), (Key(last), last.GetProperty("content").GetProperty("membership").GetString()));
        Assert.True(Limited(room));
        Assert.Empty(EventIds(room.GetProperty("state")).Intersect(EventIds(Timeline(room))));
        Assert.Equal(0, RoomCount(plain, "invite"));

        var next = await bob.SyncSinceAsync(NextBatch(plain));
        Assert.Equal(0, RoomCount(next, "leave") + RoomCount(next, "join") + RoomCount(next, "invite"));
    }

    [Fact]
    public async Task A_leave_and_rejoin_in_one_batch_bring_the_room_back_with_full_state()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var since = NextBatch(await bob.SyncAsync());
        await bob.Rooms.LeaveAsync(roomId);
        await alice.Rooms.SetStateAsync(roomId, "m.room.topic", new { topic = "While bob was away" });
        await bob.Rooms.JoinAsync(roomId);

        var sync = await bob.SyncSinceAsync(since);

        Assert.Equal(0, RoomCount(sync, "leave"));
        var room = Joined(sync, roomId);
        Assert.Contains(("m.room.create", ""), StateKeys(room));
        Assert.Contains(("m.room.power_levels", ""), StateKeys(room));
        Assert.Contains(("m.room.topic", ""), StateKeys(room).Concat(TimelineEvents(room).Where(e => e.TryGetProperty("state_key", out _)).Select(Key)));
        Assert.Equal("join", TimelineEvents(room).Last(e => Key(e) == ("m.room.member", bob.UserId)).GetProperty("content").GetProperty("membership").GetString());
        Assert.True(Limited(room));
        Assert.Equal(2, room.GetProperty("summary").GetProperty("m.joined_member_count").GetInt32());
    }

    [Fact]
    public async Task Lazy_loading_on_an_initial_sync_sends_the_members_of_the_timelines_senders_and_of_the_syncing_user_only()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat", name = "Named" });
        await bob.Rooms.JoinAsync(roomId);
        await carol.Rooms.JoinAsync(roomId);
        for (var i = 1; i <= 3; i++) await bob.Rooms.SendTextAsync(roomId, $"bob {i}");
        for (var i = 1; i <= 3; i++) await carol.Rooms.SendTextAsync(roomId, $"carol {i}");

        var room = Joined(await alice.SyncAsync(Filter(Lazy + "," + Limit(3))), roomId);

        Assert.Equal([alice.UserId, carol.UserId], MembersInState(room).Order());
        Assert.Contains(("m.room.name", ""), StateKeys(room));
    }

    [Fact]
    public async Task Lazy_loading_in_a_gapped_sync_sends_the_timelines_senders_and_the_gaps_member_changes_but_not_who_only_spoke_in_the_gap()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var charlie = await RegisterAsync("charlie");
        var dave = await RegisterAsync("dave");
        var erin = await RegisterAsync("erin");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat", name = "Named" });
        foreach (var user in new[] { bob, charlie, erin }) await user.Rooms.JoinAsync(roomId);
        for (var i = 1; i <= 5; i++) await bob.Rooms.SendTextAsync(roomId, $"bob {i}");
        var lazy = Filter(Lazy + "," + Limit(5));
        var initial = await alice.SyncAsync(lazy);
        Assert.Equal([alice.UserId, bob.UserId], MembersInState(Joined(initial, roomId)).Order());

        await dave.Rooms.JoinAsync(roomId);
        for (var i = 1; i <= 5; i++) await erin.Rooms.SendTextAsync(roomId, $"erin {i}");
        for (var i = 1; i <= 5; i++) await charlie.Rooms.SendTextAsync(roomId, $"charlie {i}");
        var gappedSync = await alice.SyncSinceAsync(NextBatch(initial), lazy);
        var gapped = Joined(gappedSync, roomId);

        Assert.True(Limited(gapped));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"charlie {i}"), Bodies(gapped));
        Assert.Equal([charlie.UserId, dave.UserId], MembersInState(gapped).Order());
        Assert.Empty(EventIds(gapped.GetProperty("state")).Intersect(EventIds(Timeline(gapped))));

        await dave.Rooms.LeaveAsync(roomId);
        for (var i = 1; i <= 6; i++) await charlie.Rooms.SendTextAsync(roomId, $"charlie again {i}");
        var again = Joined(await alice.SyncSinceAsync(NextBatch(gappedSync), lazy), roomId);
        Assert.True(Limited(again));
        var daveLeft = Assert.Single(StateEvents(again), e => e.GetProperty("type").GetString() == "m.room.member");
        Assert.Equal((("m.room.member", dave.UserId), "leave"), (Key(daveLeft), daveLeft.GetProperty("content").GetProperty("membership").GetString()));
    }

    [Fact]
    public async Task Lazy_loading_repeats_members_already_sent_only_with_include_redundant_members()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat", name = "Named" });
        await bob.Rooms.JoinAsync(roomId);
        await bob.Rooms.SendTextAsync(roomId, "first");

        foreach (var redundant in new[] { false, true })
        {
            var filter = Filter("\"state\":{\"lazy_load_members\":true,\"include_redundant_members\":" + (redundant ? "true" : "false") + "}," + Limit(1));
            var initial = await alice.SyncAsync(filter);
            Assert.Contains(bob.UserId, MembersInState(Joined(initial, roomId)));
            await bob.Rooms.SendTextAsync(roomId, $"redundant {redundant}");

            var next = Joined(await alice.SyncSinceAsync(NextBatch(initial), filter + "&timeout=5000"), roomId);

            Assert.Equal([$"redundant {redundant}"], Bodies(next));
            Assert.Equal(redundant ? new List<string> { bob.UserId } : new List<string>(), MembersInState(next));
        }
    }

    [Fact]
    public async Task Heroes_name_an_unnamed_room_without_the_syncing_user_and_are_left_out_once_it_has_a_name_or_canonical_alias()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        await carol.Rooms.JoinAsync(roomId);

        var unnamed = Summary(Joined(await alice.SyncAsync(), roomId));
        Assert.Equal([bob.UserId, carol.UserId], Heroes(unnamed));
        Assert.Equal(3, unnamed.GetProperty("m.joined_member_count").GetInt32());
        Assert.Equal([alice.UserId, carol.UserId], Heroes(Summary(Joined(await bob.SyncAsync(Filter(Lazy)), roomId))));

        await alice.Rooms.SetStateAsync(roomId, "m.room.name", new { name = "Named" });
        var named = await alice.SyncAsync(Filter(Lazy + "," + Limit(1)));
        Assert.False(Summary(Joined(named, roomId)).TryGetProperty("m.heroes", out _));
        Assert.Equal(3, Summary(Joined(named, roomId)).GetProperty("m.joined_member_count").GetInt32());
        Assert.Equal([alice.UserId], MembersInState(Joined(named, roomId)));

        await alice.Rooms.SetStateAsync(roomId, "m.room.name", new { name = "" });
        Assert.Equal([bob.UserId, carol.UserId], Heroes(Summary(Joined(await alice.SyncAsync(), roomId))));

        var aliased = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat", room_alias_name = $"contract{Guid.NewGuid():N}" });
        await bob.Rooms.JoinAsync(aliased);
        Assert.False(Summary(Joined(await alice.SyncAsync(), aliased)).TryGetProperty("m.heroes", out _));
    }

    [Fact]
    public async Task Summary_counts_follow_invites_joins_leaves_and_kicks_in_incremental_syncs()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        var sync = await alice.SyncAsync();
        Assert.Equal((1, 0), Counts(Summary(Joined(sync, roomId))));

        async Task<(int Joined, int Invited)> AfterAsync(Func<Task> change)
        {
            await change();
            sync = await alice.SyncSinceAsync(NextBatch(sync), "timeout=5000");
            return Counts(Summary(Joined(sync, roomId)));
        }

        Assert.Equal((1, 1), await AfterAsync(() => alice.Rooms.InviteAsync(roomId, bob.UserId)));
        Assert.Equal((1, 2), await AfterAsync(() => alice.Rooms.InviteAsync(roomId, carol.UserId)));
        Assert.Equal((2, 1), await AfterAsync(async () => await bob.Rooms.JoinAsync(roomId)));
        Assert.Equal((3, 0), await AfterAsync(async () => await carol.Rooms.JoinAsync(roomId)));
        Assert.Equal((2, 0), await AfterAsync(() => carol.Rooms.LeaveAsync(roomId)));
        Assert.Equal((1, 0), await AfterAsync(() => alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{Uri.EscapeDataString(roomId)}/kick", new { user_id = bob.UserId })));

        await alice.Rooms.SendTextAsync(roomId, "no membership change");
        var quiet = Joined(await alice.SyncSinceAsync(NextBatch(sync), "timeout=5000"), roomId);
        Assert.False(quiet.TryGetProperty("summary", out var unchanged) && unchanged.EnumerateObject().Any());
    }

    private static bool Limited(JsonElement room) => Timeline(room).GetProperty("limited").GetBoolean();

    private static string PrevBatch(JsonElement room) => Timeline(room).GetProperty("prev_batch").GetString()!;

    private static List<JsonElement> TimelineEvents(JsonElement room) => Timeline(room).GetProperty("events").EnumerateArray().ToList();

    private static List<JsonElement> StateEvents(JsonElement room) => room.GetProperty("state").GetProperty("events").EnumerateArray().ToList();

    private static (string Type, string StateKey) Key(JsonElement stateEvent) =>
        (stateEvent.GetProperty("type").GetString()!, stateEvent.GetProperty("state_key").GetString()!);

    private static List<string> MembersInState(JsonElement room) =>
        StateEvents(room).Where(e => e.GetProperty("type").GetString() == "m.room.member").Select(e => e.GetProperty("state_key").GetString()!).ToList();

    private static JsonElement Summary(JsonElement room) => room.GetProperty("summary");

    private static List<string> Heroes(JsonElement summary) => summary.GetProperty("m.heroes").EnumerateArray().Select(h => h.GetString()!).ToList();

    private static (int Joined, int Invited) Counts(JsonElement summary) =>
        (summary.GetProperty("m.joined_member_count").GetInt32(), summary.GetProperty("m.invited_member_count").GetInt32());

    /// <summary>The bodies of the messages among the <paramref name="limit"/> events /messages returns backwards from the token, newest first.</summary>
    private static async Task<List<string>> BodiesBeforeAsync(SyncUser user, string roomId, string from, int limit)
    {
        var page = await user.Rooms.MessagesAsync(roomId, $"dir=b&limit={limit}&from={Uri.EscapeDataString(from)}");
        return page.GetProperty("chunk").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.message")
            .Select(e => e.GetProperty("content").GetProperty("body").GetString()!)
            .ToList();
    }
}

public sealed class SqliteSyncContractTests : SyncContractTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresSyncContractTests : SyncContractTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
