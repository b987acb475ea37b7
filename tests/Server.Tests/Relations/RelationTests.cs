using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Relations;

/// <summary>
/// Relations, threads and bundled aggregations as a client sees them (client-server/relations.yaml, threads_list.yaml
/// and the spec's rules on m.thread, m.replace and m.reference aggregations), and threaded read receipts.
/// </summary>
public abstract class RelationTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static Dictionary<string, object> ThreadReply(string rootId, string body) => new()
    {
        ["msgtype"] = "m.text",
        ["body"] = body,
        ["m.relates_to"] = new Dictionary<string, object>
        {
            ["rel_type"] = "m.thread",
            ["event_id"] = rootId,
            ["is_falling_back"] = true,
            ["m.in_reply_to"] = new { event_id = rootId },
        },
    };

    private static Dictionary<string, object> Edit(string originalId, string body) => new()
    {
        ["msgtype"] = "m.text",
        ["body"] = "* " + body,
        ["m.new_content"] = new { msgtype = "m.text", body },
        ["m.relates_to"] = new { rel_type = "m.replace", event_id = originalId },
    };

    private static Dictionary<string, object> Related(string relType, string parentId, string body) => new()
    {
        ["msgtype"] = "m.text",
        ["body"] = body,
        ["m.relates_to"] = new { rel_type = relType, event_id = parentId },
    };

    private static Dictionary<string, object> Reaction(string parentId, string key) => new()
    {
        ["m.relates_to"] = new { rel_type = "m.annotation", event_id = parentId, key },
    };

    /// <summary>The relations API lives under /_matrix/client/v1.</summary>
    private async Task<HttpResponseMessage> V1Async(RoomsClient user, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_matrix/client/v1" + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.User.AccessToken);
        return await Server.Client.SendAsync(request);
    }

    private async Task<JsonElement> V1OkAsync(RoomsClient user, string path)
    {
        using var response = await V1Async(user, path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task V1FailsAsync(RoomsClient user, string path, HttpStatusCode status, string errcode)
    {
        using var response = await V1Async(user, path);
        await response.AssertErrorAsync(status, errcode);
    }

    private static string Relations(string roomId, string eventId, string tail = "") =>
        $"/rooms/{E(roomId)}/relations/{E(eventId)}{tail}";

    private static JsonElement? Bundle(JsonElement clientEvent, string relType) =>
        clientEvent.TryGetProperty("unsigned", out var unsigned) && unsigned.TryGetProperty("m.relations", out var relations)
        && relations.TryGetProperty(relType, out var bundle)
            ? bundle
            : null;

    [Fact]
    public async Task A_thread_root_carries_its_summary_wherever_it_is_served()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var carol = await UserAsync("carol");
        await carol.JoinAsync(roomId);
        var root = await alice.SendTextAsync(roomId, "root");
        await bob.SendAsync(roomId, ThreadReply(root, "first"));
        var last = await bob.SendAsync(roomId, ThreadReply(root, "second"));

        foreach (var (reader, participated) in new[] { (bob, true), (alice, true), (carol, false) })
        {
            var thread = Bundle(await reader.GetEventAsync(roomId, root), "m.thread")!.Value;
            Assert.Equal(2, thread.GetProperty("count").GetInt32());
            Assert.Equal(last, thread.GetProperty("latest_event").GetProperty("event_id").GetString());
            Assert.Equal("second", thread.GetProperty("latest_event").GetProperty("content").GetProperty("body").GetString());
            Assert.Equal(bob.UserId, thread.GetProperty("latest_event").GetProperty("sender").GetString());
            Assert.Equal(participated, thread.GetProperty("current_user_participated").GetBoolean());
        }

        var messages = await carol.MessagesAsync(roomId, "dir=b&limit=10");
        var served = messages.GetProperty("chunk").EnumerateArray().Single(e => e.GetProperty("event_id").GetString() == root);
        Assert.Equal(2, Bundle(served, "m.thread")!.Value.GetProperty("count").GetInt32());
        // The replies themselves have no aggregations.
        Assert.Null(Bundle(messages.GetProperty("chunk")[0], "m.thread"));

        var context = await carol.OkAsync(Get, $"/rooms/{E(roomId)}/context/{E(root)}?limit=2");
        Assert.Equal(last, Bundle(context.GetProperty("event"), "m.thread")!.Value.GetProperty("latest_event").GetProperty("event_id").GetString());

        var replies = await V1OkAsync(carol, Relations(roomId, root, "/m.thread"));
        Assert.Equal(["second", "first"], Bodies(replies.GetProperty("chunk")));
    }

    [Fact]
    public async Task Sync_timelines_read_from_the_store_carry_bundled_aggregations()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var root = await alice.SendTextAsync(roomId, "root");
        var reply = await bob.SendAsync(roomId, ThreadReply(root, "reply"));
        var edited = await alice.SendTextAsync(roomId, "tpyo");
        var edit = await alice.SendAsync(roomId, Edit(edited, "typo"));

        var sync = await bob.OkAsync(Get, "/sync?timeout=0");
        var timeline = sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events");
        JsonElement Served(string eventId) => timeline.EnumerateArray().Single(e => e.GetProperty("event_id").GetString() == eventId);
        var thread = Bundle(Served(root), "m.thread")!.Value;
        Assert.Equal(1, thread.GetProperty("count").GetInt32());
        Assert.True(thread.GetProperty("current_user_participated").GetBoolean());
        Assert.Equal(reply, thread.GetProperty("latest_event").GetProperty("event_id").GetString());
        Assert.Equal(edit, Bundle(Served(edited), "m.replace")!.Value.GetProperty("event_id").GetString());
        Assert.Equal("tpyo", Served(edited).GetProperty("content").GetProperty("body").GetString());
        Assert.Null(Bundle(Served(reply), "m.thread"));
        // The reader-specific part of unsigned is still there beside the bundle.
        Assert.True(Served(root).GetProperty("unsigned").TryGetProperty("age", out _));
    }

    [Fact]
    public async Task The_latest_edit_by_the_original_sender_is_bundled_and_the_content_is_left_as_sent()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var original = await alice.SendTextAsync(roomId, "helo");
        var firstEdit = await alice.SendAsync(roomId, Edit(original, "hello"));
        var secondEdit = await alice.SendAsync(roomId, Edit(original, "hello!"));
        // Another sender's edit, and an edit of a state event, are no edits.
        await bob.SendAsync(roomId, Edit(original, "hijacked"));
        var topic = await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "t" });
        await alice.SendAsync(roomId, Edit(topic, "not a topic edit"));

        var served = await bob.GetEventAsync(roomId, original);
        Assert.Equal("helo", served.GetProperty("content").GetProperty("body").GetString());
        var edit = Bundle(served, "m.replace")!.Value;
        Assert.Equal(secondEdit, edit.GetProperty("event_id").GetString());
        Assert.Equal("hello!", edit.GetProperty("content").GetProperty("m.new_content").GetProperty("body").GetString());
        Assert.Equal(alice.UserId, edit.GetProperty("sender").GetString());
        Assert.Null(Bundle(await bob.GetEventAsync(roomId, topic), "m.replace"));

        var edits = await V1OkAsync(bob, Relations(roomId, original, "/m.replace"));
        Assert.Equal([secondEdit, firstEdit], EventIds(edits.GetProperty("chunk")));

        // A redacted edit no longer counts; the one before it becomes the latest.
        await alice.OkAsync(Put, $"/rooms/{E(roomId)}/redact/{E(secondEdit)}/{alice.NextTxnId()}", new { });
        Assert.Equal(firstEdit, Bundle(await bob.GetEventAsync(roomId, original), "m.replace")!.Value.GetProperty("event_id").GetString());
        Assert.Equal([firstEdit], EventIds((await V1OkAsync(bob, Relations(roomId, original))).GetProperty("chunk")));

        // A redacted original is served without its edit.
        await alice.OkAsync(Put, $"/rooms/{E(roomId)}/redact/{E(original)}/{alice.NextTxnId()}", new { });
        Assert.Null(Bundle(await bob.GetEventAsync(roomId, original), "m.replace"));
    }

    [Fact]
    public async Task Relations_page_both_ways_with_tokens_and_filter_by_type()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var parent = await alice.SendTextAsync(roomId, "parent");
        var children = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            children.Add(await (i % 2 == 0 ? bob : alice).SendAsync(roomId, Related("m.reference", parent, $"ref {i}")));
            await alice.SendTextAsync(roomId, $"unrelated {i}");
        }
        var reaction = await bob.SendAsync(roomId, Reaction(parent, "👍"), "m.reaction");

        // Backwards (the default) from the newest, two at a time.
        var page1 = await V1OkAsync(bob, Relations(roomId, parent, "/m.reference?limit=2"));
        Assert.Equal(["ref 5", "ref 4"], Bodies(page1.GetProperty("chunk")));
        Assert.False(page1.TryGetProperty("prev_batch", out _));
        Assert.False(page1.TryGetProperty("recursion_depth", out _));
        var next1 = page1.GetProperty("next_batch").GetString()!;
        var page2 = await V1OkAsync(bob, Relations(roomId, parent, $"/m.reference?limit=2&from={E(next1)}"));
        Assert.Equal(["ref 3", "ref 2"], Bodies(page2.GetProperty("chunk")));
        Assert.Equal(next1, page2.GetProperty("prev_batch").GetString());
        var page3 = await V1OkAsync(bob, Relations(roomId, parent, $"/m.reference?limit=2&from={E(page2.GetProperty("next_batch").GetString()!)}"));
        Assert.Equal(["ref 1"], Bodies(page3.GetProperty("chunk")));
        Assert.False(page3.TryGetProperty("next_batch", out _));

        // Forwards from the start; 'to' from an earlier page bounds the range.
        var forward = await V1OkAsync(bob, Relations(roomId, parent, "/m.reference?dir=f&limit=3"));
        Assert.Equal(["ref 1", "ref 2", "ref 3"], Bodies(forward.GetProperty("chunk")));
        var rest = await V1OkAsync(bob, Relations(roomId, parent, $"/m.reference?dir=f&from={E(forward.GetProperty("next_batch").GetString()!)}"));
        Assert.Equal(["ref 4", "ref 5"], Bodies(rest.GetProperty("chunk")));
        Assert.False(rest.TryGetProperty("next_batch", out _));
        var bounded = await V1OkAsync(bob, Relations(roomId, parent, $"/m.reference?from={E(next1)}&to={E(page2.GetProperty("next_batch").GetString()!)}"));
        Assert.Equal(["ref 3", "ref 2"], Bodies(bounded.GetProperty("chunk")));
        // A page 2 'from' with a page 1 'to' is empty, as the spec describes.
        var empty = await V1OkAsync(bob, Relations(roomId, parent, $"/m.reference?from={E(page2.GetProperty("next_batch").GetString()!)}&to={E(next1)}"));
        Assert.Equal(0, empty.GetProperty("chunk").GetArrayLength());
        // A /messages token works as 'from' too.
        var messagesStart = (await bob.MessagesAsync(roomId, "dir=b&limit=1")).GetProperty("end").GetString()!;
        Assert.Equal(5, (await V1OkAsync(bob, Relations(roomId, parent, $"/m.reference?from={E(messagesStart)}"))).GetProperty("chunk").GetArrayLength());

        // Without a relation type every child; with an event type only those.
        var all = await V1OkAsync(bob, Relations(roomId, parent));
        Assert.Equal([reaction, .. Enumerable.Reverse(children)], EventIds(all.GetProperty("chunk")));
        Assert.Equal([reaction], EventIds((await V1OkAsync(bob, Relations(roomId, parent, "/m.annotation/m.reaction"))).GetProperty("chunk")));
        Assert.Equal(0, (await V1OkAsync(bob, Relations(roomId, parent, "/m.annotation/m.room.message"))).GetProperty("chunk").GetArrayLength());

        // References are bundled as a chunk of event ids, oldest first; annotations are not bundled (the spec).
        var served = await bob.GetEventAsync(roomId, parent);
        Assert.Equal(children, Bundle(served, "m.reference")!.Value.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!));
        Assert.Null(Bundle(served, "m.annotation"));
    }

    [Fact]
    public async Task Recurse_follows_relations_of_relations_three_deep()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var root = await alice.SendTextAsync(roomId, "root");
        var reply = await bob.SendAsync(roomId, ThreadReply(root, "reply"));
        var replyEdit = await bob.SendAsync(roomId, Edit(reply, "reply, edited"));
        var reference = await alice.SendAsync(roomId, Related("m.reference", replyEdit, "third level"));
        await alice.SendAsync(roomId, Related("m.reference", reference, "fourth level"));

        var direct = await V1OkAsync(alice, Relations(roomId, root));
        Assert.Equal([reply], EventIds(direct.GetProperty("chunk")));
        Assert.False(direct.TryGetProperty("recursion_depth", out _));

        var notRecursing = await V1OkAsync(alice, Relations(roomId, root, "?recurse=false"));
        Assert.Equal([reply], EventIds(notRecursing.GetProperty("chunk")));
        Assert.Equal(1, notRecursing.GetProperty("recursion_depth").GetInt32());

        var recursing = await V1OkAsync(alice, Relations(roomId, root, "?recurse=true"));
        Assert.Equal([reference, replyEdit, reply], EventIds(recursing.GetProperty("chunk")));
        Assert.Equal(3, recursing.GetProperty("recursion_depth").GetInt32());

        var editsOnly = await V1OkAsync(alice, Relations(roomId, root, "/m.replace?recurse=true&dir=f"));
        Assert.Equal([replyEdit], EventIds(editsOnly.GetProperty("chunk")));
        // The thread's latest event comes with its own latest edit.
        var thread = Bundle(await alice.GetEventAsync(roomId, root), "m.thread")!.Value;
        Assert.Equal(replyEdit, Bundle(thread.GetProperty("latest_event"), "m.replace")!.Value.GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task The_threads_list_orders_by_latest_reply_and_narrows_to_participated()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var carol = await UserAsync("carol");
        await carol.JoinAsync(roomId);
        var aliceRoot = await alice.SendTextAsync(roomId, "alice's thread");
        var bobRoot = await bob.SendTextAsync(roomId, "bob's thread");
        var carolRoot = await carol.SendTextAsync(roomId, "carol's thread");
        await alice.SendTextAsync(roomId, "no thread");
        await bob.SendAsync(roomId, ThreadReply(aliceRoot, "bob in alice's"));
        await alice.SendAsync(roomId, ThreadReply(carolRoot, "alice in carol's"));
        await carol.SendAsync(roomId, ThreadReply(bobRoot, "carol in bob's"));

        var all = await V1OkAsync(alice, $"/rooms/{E(roomId)}/threads");
        Assert.Equal([bobRoot, carolRoot, aliceRoot], EventIds(all.GetProperty("chunk")));
        Assert.False(all.TryGetProperty("next_batch", out _));
        Assert.Equal(1, Bundle(all.GetProperty("chunk")[0], "m.thread")!.Value.GetProperty("count").GetInt32());
        Assert.Equal(EventIds(all.GetProperty("chunk")), EventIds((await V1OkAsync(alice, $"/rooms/{E(roomId)}/threads?include=all")).GetProperty("chunk")));

        var participated = await V1OkAsync(alice, $"/rooms/{E(roomId)}/threads?include=participated");
        Assert.Equal([carolRoot, aliceRoot], EventIds(participated.GetProperty("chunk")));
        Assert.All(participated.GetProperty("chunk").EnumerateArray(),
            root => Assert.True(Bundle(root, "m.thread")!.Value.GetProperty("current_user_participated").GetBoolean()));

        var first = await V1OkAsync(alice, $"/rooms/{E(roomId)}/threads?limit=2");
        Assert.Equal([bobRoot, carolRoot], EventIds(first.GetProperty("chunk")));
        var second = await V1OkAsync(alice, $"/rooms/{E(roomId)}/threads?limit=2&from={E(first.GetProperty("next_batch").GetString()!)}");
        Assert.Equal([aliceRoot], EventIds(second.GetProperty("chunk")));
        Assert.False(second.TryGetProperty("next_batch", out _));

        var outsider = await UserAsync("dave");
        await V1FailsAsync(outsider, $"/rooms/{E(roomId)}/threads", HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task A_parent_the_user_may_not_see_is_not_found()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "joined" });
        var before = await alice.SendTextAsync(roomId, "before dave");
        await alice.SendAsync(roomId, ThreadReply(before, "reply before dave"));
        var dave = await UserAsync("dave");
        await dave.JoinAsync(roomId);
        var after = await alice.SendTextAsync(roomId, "after dave");
        await alice.SendAsync(roomId, ThreadReply(after, "reply after dave"));

        await V1FailsAsync(dave, Relations(roomId, before), HttpStatusCode.NotFound, "M_NOT_FOUND");
        await V1FailsAsync(dave, Relations(roomId, before, "/m.thread"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal(1, (await V1OkAsync(dave, Relations(roomId, after))).GetProperty("chunk").GetArrayLength());
        // The threads list holds only roots the user may see.
        Assert.Equal([after], EventIds((await V1OkAsync(dave, $"/rooms/{E(roomId)}/threads")).GetProperty("chunk")));

        var eve = await UserAsync("eve");
        await V1FailsAsync(eve, Relations(roomId, after), HttpStatusCode.NotFound, "M_NOT_FOUND");
        await V1FailsAsync(dave, Relations(roomId, "$unknown"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        var otherRoom = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await dave.JoinAsync(otherRoom);
        await V1FailsAsync(dave, Relations(otherRoom, after), HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Bad_parameters_are_refused()
    {
        var (alice, _, roomId) = await RoomOfTwoAsync();
        var parent = await alice.SendTextAsync(roomId, "parent");
        foreach (var query in new[] { "dir=x", "dir=", "limit=-1", "limit=ten", "limit=99999999999", "from=nonsense", "to=t", "recurse=yes" })
            await V1FailsAsync(alice, Relations(roomId, parent, "?" + query), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await V1FailsAsync(alice, $"/rooms/{E("not-a-room")}/relations/{E(parent)}", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        foreach (var query in new[] { "limit=0", "limit=-3", "limit=x", "include=mine", "from=nonsense" })
            await V1FailsAsync(alice, $"/rooms/{E(roomId)}/threads?{query}", HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        using var anonymous = await Server.Client.GetAsync($"/_matrix/client/v1/rooms/{E(roomId)}/threads");
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    [Fact]
    public async Task Threaded_receipts_are_kept_per_thread_and_reach_sync_with_their_thread_id()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var root = await alice.SendTextAsync(roomId, "root");
        var reply = await alice.SendAsync(roomId, ThreadReply(root, "reply"));
        var main = await alice.SendTextAsync(roomId, "main timeline");

        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(reply)}", new { thread_id = root });
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(main)}", new { thread_id = "main" });
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(root)}", new { });
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(main)}", new { thread_id = "" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(main)}", new { thread_id = "no event" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        // The unthreaded receipt did not replace the threaded ones: each thread keeps its own.
        var sync = await alice.OkAsync(Get, "/sync?timeout=0");
        var receipts = sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("ephemeral").GetProperty("events")
            .EnumerateArray().Single(e => e.GetProperty("type").GetString() == "m.receipt").GetProperty("content");
        Assert.Equal(root, receipts.GetProperty(reply).GetProperty("m.read").GetProperty(bob.UserId).GetProperty("thread_id").GetString());
        Assert.Equal("main", receipts.GetProperty(main).GetProperty("m.read").GetProperty(bob.UserId).GetProperty("thread_id").GetString());
        Assert.False(receipts.GetProperty(root).GetProperty("m.read").GetProperty(bob.UserId).TryGetProperty("thread_id", out _));
    }
}

public sealed class SqliteRelationTests(SqliteServerFixture fixture) : RelationTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRelationTests(PostgresServerFixture fixture) : RelationTests(fixture), IClassFixture<PostgresServerFixture>;
