using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Push;

/// <summary>
/// Push rules as a client sees them (client-server/pushrules.yaml, notifications.yaml and the push notifications
/// module): counts in /sync, the effect of edited rules, receipts resetting counts, errors for bad edits.
/// </summary>
public abstract class PushRuleTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private const string ThreadFilter = "{\"room\":{\"timeline\":{\"unread_thread_notifications\":true}}}";

    private async Task<(RoomsClient Alice, RoomsClient Bob, RoomsClient Carol, string RoomId)> RoomOfThreeAsync()
    {
        var alice = await UserAsync("alice", "Alice");
        var bob = await UserAsync("bob", "Bobby Tables");
        var carol = await UserAsync("carol");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await carol.JoinAsync(roomId);
        return (alice, bob, carol, roomId);
    }

    private static async Task<JsonElement> JoinedRoomAsync(RoomsClient user, string roomId, string? filter = null)
    {
        var sync = await user.OkAsync(Get, "/sync?timeout=0" + (filter is null ? "" : "&filter=" + E(filter)));
        return sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId);
    }

    private static async Task<(long Notifications, long Highlights)> UnreadAsync(RoomsClient user, string roomId)
    {
        var unread = (await JoinedRoomAsync(user, roomId)).GetProperty("unread_notifications");
        return (unread.GetProperty("notification_count").GetInt64(), unread.GetProperty("highlight_count").GetInt64());
    }

    private static Task<string> SendAsync(RoomsClient user, string roomId, string body, object? mentions = null) =>
        mentions is null
            ? user.SendTextAsync(roomId, body)
            : user.SendAsync(roomId, new Dictionary<string, object> { ["msgtype"] = "m.text", ["body"] = body, ["m.mentions"] = mentions });

    private static string RulePath(string kind, string ruleId) => $"/pushrules/global/{kind}/{E(ruleId)}";

    private static async Task<string[]> RuleIdsAsync(RoomsClient user, string kind) =>
        (await user.OkAsync(Get, "/pushrules/")).GetProperty("global").GetProperty(kind).EnumerateArray()
            .Select(rule => rule.GetProperty("rule_id").GetString()!).ToArray();

    [Fact]
    public async Task Messages_notify_members_and_mentions_highlight_but_never_the_sender()
    {
        var (alice, bob, carol, roomId) = await RoomOfThreeAsync();

        await SendAsync(alice, roomId, "hello everyone");
        Assert.Equal((1, 0), await UnreadAsync(bob, roomId));
        Assert.Equal((1, 0), await UnreadAsync(carol, roomId));
        Assert.Equal((0, 0), await UnreadAsync(alice, roomId));

        // .m.rule.is_user_mention: only the user named in m.mentions gets a highlight.
        await SendAsync(alice, roomId, "a question for you", new { user_ids = new[] { bob.UserId } });
        Assert.Equal((2, 1), await UnreadAsync(bob, roomId));
        Assert.Equal((2, 0), await UnreadAsync(carol, roomId));

        // .m.rule.contains_display_name, at word boundaries and ignoring case.
        await SendAsync(alice, roomId, "is BOBBY TABLES around?");
        await SendAsync(alice, roomId, "xBobby Tablesx is not a name");
        Assert.Equal((4, 2), await UnreadAsync(bob, roomId));

        // .m.rule.is_room_mention needs the notifications.room power level (50): the creator has it, carol does not.
        await SendAsync(carol, roomId, "everyone look", new { room = true });
        Assert.Equal((5, 2), await UnreadAsync(bob, roomId));
        await SendAsync(alice, roomId, "everyone look", new { room = true });
        Assert.Equal((6, 3), await UnreadAsync(bob, roomId));
        Assert.Equal((5, 1), await UnreadAsync(carol, roomId));

        // Notices and reactions do not notify (.m.rule.suppress_notices, .m.rule.reaction).
        await alice.SendAsync(roomId, new { msgtype = "m.notice", body = "bot says hi" });
        Assert.Equal((6, 3), await UnreadAsync(bob, roomId));
    }

    [Fact]
    public async Task An_invite_notifies_the_invitee_but_is_not_unread_once_they_joined()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "private_chat", invite = new[] { bob.UserId } });
        var notifications = await bob.OkAsync(Get, "/notifications");
        Assert.Equal(roomId, notifications.GetProperty("notifications").EnumerateArray().Single().GetProperty("room_id").GetString());

        await bob.JoinAsync(roomId);
        Assert.Equal((0, 0), await UnreadAsync(bob, roomId));
        await SendAsync(alice, roomId, "welcome");
        Assert.Equal((1, 0), await UnreadAsync(bob, roomId));
        // A second join event (other content, join to join) is no new join: what is unread stays unread.
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/join", new { reason = "joining again" });
        Assert.Equal((1, 0), await UnreadAsync(bob, roomId));
    }

    [Fact]
    public async Task Read_receipts_reset_the_counts_and_threads_count_apart()
    {
        var (alice, bob, _, roomId) = await RoomOfThreeAsync();
        await SendAsync(alice, roomId, "one");
        var second = await SendAsync(alice, roomId, "two", new { user_ids = new[] { bob.UserId } });
        Assert.Equal((2, 1), await UnreadAsync(bob, roomId));

        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(second)}", new { });
        Assert.Equal((0, 0), await UnreadAsync(bob, roomId));
        var third = await SendAsync(alice, roomId, "three");
        Assert.Equal((1, 0), await UnreadAsync(bob, roomId));
        // A private receipt resets the counts too; an older receipt does not bring notifications back.
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read.private/{E(third)}", new { });
        Assert.Equal((0, 0), await UnreadAsync(bob, roomId));
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(second)}", new { });
        Assert.Equal((0, 0), await UnreadAsync(bob, roomId));

        // A reply in a thread counts in unread_thread_notifications when the filter asks for it, in the room's total when not.
        var root = await SendAsync(alice, roomId, "thread root");
        var reply = await alice.SendAsync(roomId, new Dictionary<string, object>
        {
            ["msgtype"] = "m.text",
            ["body"] = "in the thread",
            ["m.relates_to"] = new { rel_type = "m.thread", event_id = root },
        });
        Assert.Equal((2, 0), await UnreadAsync(bob, roomId));
        var split = await JoinedRoomAsync(bob, roomId, ThreadFilter);
        Assert.Equal(1, split.GetProperty("unread_notifications").GetProperty("notification_count").GetInt64());
        Assert.Equal(1, split.GetProperty("unread_thread_notifications").GetProperty(root).GetProperty("notification_count").GetInt64());

        // A threaded receipt on the thread clears that thread only; one on "main" clears the main timeline only.
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(reply)}", new { thread_id = root });
        split = await JoinedRoomAsync(bob, roomId, ThreadFilter);
        Assert.Equal(1, split.GetProperty("unread_notifications").GetProperty("notification_count").GetInt64());
        Assert.False(split.GetProperty("unread_thread_notifications").TryGetProperty(root, out _));
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(root)}", new { thread_id = "main" });
        Assert.Equal((0, 0), await UnreadAsync(bob, roomId));
    }

    [Fact]
    public async Task A_keyword_rule_highlights_until_it_is_disabled_and_other_clients_see_the_change_in_sync()
    {
        var (alice, bob, _, roomId) = await RoomOfThreeAsync();
        var since = (await bob.OkAsync(Get, "/sync?timeout=0")).GetProperty("next_batch").GetString()!;

        var rule = new { pattern = "cake*", actions = new object[] { "notify", new { set_tweak = "highlight" } } };
        Assert.Equal("{}", (await bob.OkAsync(Put, RulePath("content", "cakes"), rule)).GetRawText());
        var stored = await bob.OkAsync(Get, RulePath("content", "cakes"));
        Assert.Equal("cake*", stored.GetProperty("pattern").GetString());
        Assert.True(stored.GetProperty("enabled").GetBoolean());
        Assert.False(stored.GetProperty("default").GetBoolean());
        // User rules come before the server-default content rule.
        Assert.Equal(["cakes", ".m.rule.contains_user_name"], await RuleIdsAsync(bob, "content"));

        var incremental = await bob.OkAsync(Get, $"/sync?timeout=0&since={E(since)}");
        var pushRules = incremental.GetProperty("account_data").GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "m.push_rules");
        Assert.Contains(pushRules.GetProperty("content").GetProperty("global").GetProperty("content").EnumerateArray(),
            r => r.GetProperty("rule_id").GetString() == "cakes");

        await SendAsync(alice, roomId, "who wants Cakes?");
        Assert.Equal((1, 1), await UnreadAsync(bob, roomId));
        await SendAsync(alice, roomId, "pancakes are not cakes... wait");
        Assert.Equal((2, 2), await UnreadAsync(bob, roomId));

        await bob.OkAsync(Put, RulePath("content", "cakes") + "/enabled", new { enabled = false });
        Assert.False((await bob.OkAsync(Get, RulePath("content", "cakes") + "/enabled")).GetProperty("enabled").GetBoolean());
        await SendAsync(alice, roomId, "cake again");
        Assert.Equal((3, 2), await UnreadAsync(bob, roomId));

        // Re-enabled with new actions: it matches again and does what the actions say.
        await bob.OkAsync(Put, RulePath("content", "cakes") + "/enabled", new { enabled = true });
        await bob.OkAsync(Put, RulePath("content", "cakes") + "/actions", new { actions = new[] { "dont_notify" } });
        Assert.Equal("[\"dont_notify\"]", (await bob.OkAsync(Get, RulePath("content", "cakes") + "/actions")).GetProperty("actions").GetRawText());
        await SendAsync(alice, roomId, "cake, once more");
        Assert.Equal((3, 2), await UnreadAsync(bob, roomId));

        await bob.OkAsync(Delete, RulePath("content", "cakes"), null);
        await bob.FailsAsync(Get, RulePath("content", "cakes"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await SendAsync(alice, roomId, "cake after delete");
        Assert.Equal((4, 2), await UnreadAsync(bob, roomId));
    }

    [Fact]
    public async Task A_room_rule_silences_one_room_and_a_disabled_default_rule_stops_matching()
    {
        var (alice, bob, _, roomId) = await RoomOfThreeAsync();
        var otherRoom = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(otherRoom);

        await bob.OkAsync(Put, RulePath("room", roomId), new { actions = new[] { "dont_notify" } });
        Assert.Equal(roomId, (await bob.OkAsync(Get, RulePath("room", roomId))).GetProperty("rule_id").GetString());
        await SendAsync(alice, roomId, "muted here");
        await SendAsync(alice, otherRoom, "heard there");
        Assert.Equal((0, 0), await UnreadAsync(bob, roomId));
        Assert.Equal((1, 0), await UnreadAsync(bob, otherRoom));
        // Override rules come first: a mention still highlights in the muted room.
        await SendAsync(alice, roomId, "but you", new { user_ids = new[] { bob.UserId } });
        Assert.Equal((1, 1), await UnreadAsync(bob, roomId));

        await bob.OkAsync(Put, RulePath("override", ".m.rule.is_user_mention") + "/enabled", new { enabled = false });
        Assert.False((await bob.OkAsync(Get, RulePath("override", ".m.rule.is_user_mention"))).GetProperty("enabled").GetBoolean());
        await SendAsync(alice, otherRoom, "mention ignored", new { user_ids = new[] { bob.UserId } });
        Assert.Equal((2, 0), await UnreadAsync(bob, otherRoom));

        // Server-default rules take new actions but cannot be deleted.
        await bob.OkAsync(Put, RulePath("underride", ".m.rule.message") + "/actions", new { actions = Array.Empty<string>() });
        await bob.FailsAsync(Delete, RulePath("underride", ".m.rule.message"), null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        var (_, _, carol, thirdRoom) = await RoomOfThreeAsync();
        await bob.JoinAsync(thirdRoom);
        await SendAsync(carol, thirdRoom, "no notification for bob in a room of four");
        Assert.Equal((0, 0), await UnreadAsync(bob, thirdRoom));
    }

    [Fact]
    public async Task Rules_are_placed_with_before_and_after()
    {
        var bob = await UserAsync("bob");
        var actions = new { actions = new[] { "notify" }, conditions = new[] { new { kind = "event_match", key = "content.body", pattern = "x" } } };
        await bob.OkAsync(Put, RulePath("override", "a"), actions);
        await bob.OkAsync(Put, RulePath("override", "b"), actions);
        Assert.Equal([".m.rule.master", "b", "a"], (await RuleIdsAsync(bob, "override"))[..3]);
        await bob.OkAsync(Put, RulePath("override", "c") + "?after=a", actions);
        await bob.OkAsync(Put, RulePath("override", "d") + "?before=b", actions);
        Assert.Equal([".m.rule.master", "d", "b", "a", "c", ".m.rule.suppress_notices"], (await RuleIdsAsync(bob, "override"))[..6]);
        // Updating in place keeps the position and the enabled state; before/after moves it.
        await bob.OkAsync(Put, RulePath("override", "b") + "/enabled", new { enabled = false });
        await bob.OkAsync(Put, RulePath("override", "b"), new { actions = new[] { "dont_notify" } });
        var b = await bob.OkAsync(Get, RulePath("override", "b"));
        Assert.False(b.GetProperty("enabled").GetBoolean());
        Assert.Equal("[]", b.GetProperty("conditions").GetRawText());
        await bob.OkAsync(Put, RulePath("override", "b") + "?after=c", actions);
        Assert.Equal([".m.rule.master", "d", "a", "c", "b"], (await RuleIdsAsync(bob, "override"))[..5]);
    }

    [Fact]
    public async Task Bad_edits_are_refused_with_the_spec_errors_and_change_nothing()
    {
        var bob = await UserAsync("bob");
        var before = (await bob.OkAsync(Get, "/pushrules/")).GetRawText();
        var notify = new[] { "notify" };

        await bob.FailsAsync(Put, RulePath("content", "k"), new { pattern = "k" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("content", "k"), new { pattern = "k", actions = "notify" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("content", "k"), new { pattern = "k", actions = new[] { "explode" } }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("content", "k"), new { pattern = "k", actions = new object[] { 5 } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("content", "k"), new { actions = notify }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("content", "k"), new { pattern = 3, actions = notify }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("override", "k"), new { actions = notify, conditions = "none" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("override", "k"), new { actions = notify, conditions = new[] { new { key = "type" } } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("override", "k"), new { actions = notify, conditions = new[] { new { kind = "event_match", key = "type" } } },
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("override", "k"), new { actions = notify, conditions = new[] { new { kind = "room_member_count", @is = "lots" } } },
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("override", ".my.rule"), new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("override", "a\\b"), new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("room", "not-a-room"), new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("sender", "nobody"), new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("elsewhere", "k"), new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("override", "k") + "?before=missing", new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Put, RulePath("override", "k") + "?after=.m.rule.master", new { actions = notify }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var notJson = await bob.RawAsync(Put, RulePath("override", "k"), "{\"actions\": [", authenticated: true))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        await bob.FailsAsync(Put, RulePath("override", ".m.rule.master") + "/enabled", new { enabled = "yes" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await bob.FailsAsync(Put, RulePath("override", ".m.rule.master") + "/actions", new { actions = new[] { "explode" } }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        // Unknown rules are 404 M_NOT_FOUND for every method.
        await bob.FailsAsync(Get, RulePath("override", "nope"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Delete, RulePath("override", "nope"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Put, RulePath("override", "nope") + "/enabled", new { enabled = true }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Put, RulePath("override", "nope") + "/actions", new { actions = notify }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Get, RulePath("content", ".m.rule.master"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");

        Assert.Equal(before, (await bob.OkAsync(Get, "/pushrules/")).GetRawText());
    }

    [Fact]
    public async Task Notifications_are_listed_newest_first_with_highlights_read_state_and_paging()
    {
        var (alice, bob, _, roomId) = await RoomOfThreeAsync();
        var first = await SendAsync(alice, roomId, "first");
        var second = await SendAsync(alice, roomId, "second", new { user_ids = new[] { bob.UserId } });
        var third = await SendAsync(alice, roomId, "third");
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(first)}", new { });

        var all = await bob.OkAsync(Get, "/notifications");
        var items = all.GetProperty("notifications").EnumerateArray().ToList();
        Assert.Equal([third, second, first], items.Select(n => n.GetProperty("event").GetProperty("event_id").GetString()!));
        Assert.Equal([false, false, true], items.Select(n => n.GetProperty("read").GetBoolean()));
        Assert.All(items, n => Assert.Equal(roomId, n.GetProperty("room_id").GetString()));
        Assert.Equal("second", items[1].GetProperty("event").GetProperty("content").GetProperty("body").GetString());
        Assert.Contains(items[1].GetProperty("actions").EnumerateArray(), a => a.ValueKind == JsonValueKind.Object && a.GetProperty("set_tweak").GetString() == "highlight");
        Assert.False(all.TryGetProperty("next_token", out _));

        var highlights = (await bob.OkAsync(Get, "/notifications?only=highlight")).GetProperty("notifications").EnumerateArray().ToList();
        Assert.Equal([second], highlights.Select(n => n.GetProperty("event").GetProperty("event_id").GetString()!));

        var page = await bob.OkAsync(Get, "/notifications?limit=2");
        Assert.Equal(2, page.GetProperty("notifications").GetArrayLength());
        var next = page.GetProperty("next_token").GetString()!;
        var rest = (await bob.OkAsync(Get, $"/notifications?limit=2&from={E(next)}")).GetProperty("notifications").EnumerateArray().ToList();
        Assert.Equal([first], rest.Select(n => n.GetProperty("event").GetProperty("event_id").GetString()!));
        await bob.FailsAsync(Get, "/notifications?from=abc", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        Assert.Equal(0, (await alice.OkAsync(Get, "/notifications")).GetProperty("notifications").GetArrayLength());
    }
}

public sealed class SqlitePushRuleTests(SqliteServerFixture fixture) : PushRuleTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresPushRuleTests(PostgresServerFixture fixture) : PushRuleTests(fixture), IClassFixture<PostgresServerFixture>;
