using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Search;

/// <summary>POST /search (client-server/search.yaml) as a client sees it: ordering, paging, context, visibility, bad input.</summary>
public abstract class SearchTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    /// <summary>A word no other test uses, so that results come only from this test's messages.</summary>
    private static string Word() => "w" + Guid.NewGuid().ToString("N")[..12];

    private static object Criteria(string term, object? extra = null)
    {
        var criteria = new Dictionary<string, object?> { ["search_term"] = term };
        if (extra is not null)
        {
            foreach (var property in JsonSerializer.SerializeToElement(extra).EnumerateObject()) criteria[property.Name] = property.Value;
        }
        return new { search_categories = new { room_events = criteria } };
    }

    private static async Task<JsonElement> SearchAsync(RoomsClient user, string term, object? extra = null, string? nextBatch = null) =>
        (await user.OkAsync(Post, "/search" + (nextBatch is null ? "" : "?next_batch=" + E(nextBatch)), Criteria(term, extra)))
            .GetProperty("search_categories").GetProperty("room_events");

    private static string[] ResultIds(JsonElement roomEvents) =>
        roomEvents.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("result").GetProperty("event_id").GetString()!).ToArray();

    private static string? NextBatch(JsonElement roomEvents) =>
        roomEvents.TryGetProperty("next_batch", out var next) ? next.GetString() : null;

    [Fact]
    public async Task Rank_puts_the_closest_match_first_and_recent_the_newest()
    {
        var alice = await UserAsync("alice");
        var room = await alice.CreateRoomAsync();
        var word = Word();
        var once = await alice.SendTextAsync(room, $"{word} once among many other words in a long sentence about nothing");
        var thrice = await alice.SendTextAsync(room, $"{word} {word} {word}");
        var twice = await alice.SendTextAsync(room, $"{word} and {word} in the middle of a sentence");
        await alice.SendTextAsync(room, "an unrelated message");

        var ranked = await SearchAsync(alice, word);
        Assert.Equal(3, ranked.GetProperty("count").GetInt64());
        var rankedIds = ResultIds(ranked);
        Assert.Equal(thrice, rankedIds[0]);
        Assert.Equal(new[] { once, thrice, twice }.Order(), rankedIds.Order());
        var ranks = ranked.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("rank").GetDouble()).ToArray();
        Assert.Equal(ranks.OrderDescending(), ranks);
        Assert.Contains(word, ranked.GetProperty("highlights").EnumerateArray().Select(h => h.GetString()));
        Assert.Null(NextBatch(ranked));

        var recent = await SearchAsync(alice, word, new { order_by = "recent" });
        Assert.Equal([twice, thrice, once], ResultIds(recent));
        var first = recent.GetProperty("results")[0].GetProperty("result");
        Assert.Equal(room, first.GetProperty("room_id").GetString());
        Assert.Equal(alice.UserId, first.GetProperty("sender").GetString());
        Assert.Equal("m.room.message", first.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("recent")]
    [InlineData("rank")]
    public async Task Next_batch_pages_through_every_result_once(string order)
    {
        var alice = await UserAsync("alice");
        var room = await alice.CreateRoomAsync();
        var word = Word();
        var sent = new List<string>();
        for (var i = 0; i < 7; i++) sent.Add(await alice.SendTextAsync(room, $"message {i} with {word}"));

        var seen = new List<string>();
        string? next = null;
        var pages = 0;
        do
        {
            var page = await SearchAsync(alice, word, new { order_by = order, filter = new { limit = 3 } }, next);
            Assert.Equal(7, page.GetProperty("count").GetInt64());
            seen.AddRange(ResultIds(page));
            next = NextBatch(page);
            pages++;
            Assert.True(pages <= 4, "paging did not end");
        } while (next is not null);

        Assert.Equal(sent.Order(), seen.Order());
        Assert.Equal(3, pages);
        if (order == "recent") Assert.Equal(Enumerable.Reverse(sent), seen);
    }

    [Fact]
    public async Task Context_holds_the_events_around_a_result_and_the_senders_profiles()
    {
        var alice = await UserAsync("alice", displayName: "Alice Searcher");
        var room = await alice.CreateRoomAsync();
        var word = Word();
        var before = await alice.SendTextAsync(room, "just before");
        var hit = await alice.SendTextAsync(room, $"the {word} itself");
        var after = await alice.SendTextAsync(room, "just after");
        await alice.SendTextAsync(room, "later still");

        var found = await SearchAsync(alice, word, new { event_context = new { before_limit = 1, after_limit = 1, include_profile = true } });
        var result = Assert.Single(found.GetProperty("results").EnumerateArray());
        Assert.Equal(hit, result.GetProperty("result").GetProperty("event_id").GetString());
        var context = result.GetProperty("context");
        Assert.Equal([before], EventIds(context.GetProperty("events_before")));
        Assert.Equal([after], EventIds(context.GetProperty("events_after")));
        Assert.Equal(JsonValueKind.String, context.GetProperty("start").ValueKind);
        Assert.Equal(JsonValueKind.String, context.GetProperty("end").ValueKind);
        Assert.Equal("Alice Searcher", context.GetProperty("profile_info").GetProperty(alice.UserId).GetProperty("displayname").GetString());

        // The context tokens page /messages on from there.
        var older = await alice.MessagesAsync(room, $"dir=b&limit=1&from={E(context.GetProperty("start").GetString()!)}");
        Assert.NotEqual(before, EventIds(older.GetProperty("chunk")).Single());

        var plain = await SearchAsync(alice, word);
        Assert.False(plain.GetProperty("results")[0].TryGetProperty("context", out _));
    }

    [Fact]
    public async Task A_room_left_shows_what_was_visible_and_a_room_never_joined_nothing()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var word = Word();
        var shared = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var beforeJoin = await alice.SendTextAsync(shared, $"{word} before bob joined");
        await bob.JoinAsync(shared);
        var whileJoined = await alice.SendTextAsync(shared, $"{word} while bob is here");
        await bob.LeaveAsync(shared);
        await alice.SendTextAsync(shared, $"{word} after bob left");

        var strict = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SetStateAsync(strict, "m.room.history_visibility", new { history_visibility = "joined" });
        await alice.SendTextAsync(strict, $"{word} hidden from later joiners");
        await bob.JoinAsync(strict);
        var visible = await alice.SendTextAsync(strict, $"{word} seen by bob");

        var never = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SendTextAsync(never, $"{word} in a room bob never joined");

        var found = await SearchAsync(bob, word, new { order_by = "recent" });
        Assert.Equal([visible, whileJoined, beforeJoin], ResultIds(found));
        Assert.Null(NextBatch(found));
        Assert.Equal(6, (await SearchAsync(alice, word)).GetProperty("results").GetArrayLength());

        // Forgetting the room takes it out of the search.
        await bob.OkAsync(Post, $"/rooms/{E(shared)}/forget", new { });
        Assert.Equal([visible], ResultIds(await SearchAsync(bob, word, new { order_by = "recent" })));
    }

    [Fact]
    public async Task Redacted_events_are_not_found()
    {
        var alice = await UserAsync("alice");
        var room = await alice.CreateRoomAsync();
        var word = Word();
        var kept = await alice.SendTextAsync(room, $"{word} kept");
        var gone = await alice.SendTextAsync(room, $"{word} redacted");
        await alice.OkAsync(Put, $"/rooms/{E(room)}/redact/{E(gone)}/{alice.NextTxnId()}", new { reason = "oops" });

        var found = await SearchAsync(alice, word);
        Assert.Equal([kept], ResultIds(found));
        Assert.Equal(1, found.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Keys_filters_groupings_and_state_narrow_and_shape_the_results()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var word = Word();
        var first = await alice.CreateRoomAsync(new { preset = "public_chat", name = $"{word} room", topic = $"all about {word}" });
        var second = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(first);
        await bob.JoinAsync(second);
        var aliceMessage = await alice.SendTextAsync(first, $"{word} from alice");
        var bobMessage = await bob.SendTextAsync(second, $"{word} from bob");
        await alice.SendAsync(first, new { algorithm = "m.megolm.v1.aes-sha2", ciphertext = word }, "m.room.encrypted");

        var all = await SearchAsync(alice, word);
        Assert.Equal(4, all.GetProperty("results").GetArrayLength());
        Assert.Equal(
            ["m.room.message", "m.room.message", "m.room.name", "m.room.topic"],
            all.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("result").GetProperty("type").GetString()!).Order());

        Assert.Equal(new[] { bobMessage, aliceMessage }.Order(), ResultIds(await SearchAsync(alice, word, new { keys = new[] { "content.body" } })).Order());
        Assert.Single(ResultIds(await SearchAsync(alice, word, new { keys = new[] { "content.topic" } })));
        Assert.Equal([bobMessage], ResultIds(await SearchAsync(alice, word, new { filter = new { senders = new[] { bob.UserId } } })));
        Assert.Equal([aliceMessage], ResultIds(await SearchAsync(alice, word, new { keys = new[] { "content.body" }, filter = new { rooms = new[] { first } } })));
        Assert.Equal([bobMessage], ResultIds(await SearchAsync(alice, word, new { filter = new { not_rooms = new[] { first } } })));
        Assert.Equal(2, (await SearchAsync(alice, word, new { filter = new { not_types = new[] { "m.room.message" } } })).GetProperty("results").GetArrayLength());

        var grouped = await SearchAsync(alice, word, new
        {
            keys = new[] { "content.body" },
            include_state = true,
            groupings = new { group_by = new[] { new { key = "room_id" }, new { key = "sender" } } },
        });
        var byRoom = grouped.GetProperty("groups").GetProperty("room_id");
        Assert.Equal([aliceMessage], byRoom.GetProperty(first).GetProperty("results").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([bobMessage], byRoom.GetProperty(second).GetProperty("results").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            [1, 2],
            byRoom.EnumerateObject().Select(g => g.Value.GetProperty("order").GetInt32()).Order());
        Assert.Equal([bobMessage], grouped.GetProperty("groups").GetProperty("sender").GetProperty(bob.UserId).GetProperty("results").EnumerateArray().Select(e => e.GetString()));
        var state = grouped.GetProperty("state");
        Assert.NotNull(FindState(state.GetProperty(first), "m.room.create"));
        Assert.NotNull(FindState(state.GetProperty(second), "m.room.create"));
    }

    [Fact]
    public async Task A_group_next_batch_continues_within_its_group()
    {
        var alice = await UserAsync("alice");
        var word = Word();
        var first = await alice.CreateRoomAsync();
        var second = await alice.CreateRoomAsync();
        var inFirst = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            inFirst.Add(await alice.SendTextAsync(first, $"{word} first {i}"));
            await alice.SendTextAsync(second, $"{word} second {i}");
        }

        var page = await SearchAsync(alice, word, new { order_by = "recent", filter = new { limit = 2 }, groupings = new { group_by = new[] { new { key = "room_id" } } } });
        var firstGroup = page.GetProperty("groups").GetProperty("room_id").GetProperty(first);
        Assert.Equal([inFirst[2]], firstGroup.GetProperty("results").EnumerateArray().Select(e => e.GetString()));
        var rest = await SearchAsync(alice, word, new { order_by = "recent", filter = new { limit = 10 } }, firstGroup.GetProperty("next_batch").GetString());
        Assert.Equal([inFirst[1], inFirst[0]], ResultIds(rest));
        Assert.Null(NextBatch(rest));
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_the_specs_errors()
    {
        var alice = await UserAsync("alice");
        var room = await alice.CreateRoomAsync();
        var word = Word();
        await alice.SendTextAsync(room, $"{word} one");
        await alice.SendTextAsync(room, $"{word} two");

        using (var notJson = await alice.RawAsync(Post, "/search", "{not json"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        await alice.FailsAsync(Post, "/search", new { }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/search", new { search_categories = new { room_events = new { keys = new[] { "content.body" } } } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/search", new { search_categories = new { room_events = new { search_term = 42 } } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/search", new { search_categories = "everything" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/search", Criteria(word, new { keys = new[] { "content.format" } }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/search", Criteria(word, new { order_by = "oldest" }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/search", Criteria(word, new { groupings = new { group_by = new[] { new { key = "type" } } } }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/search", Criteria(word, new { event_context = new { before_limit = -1 } }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/search", Criteria(word, new { filter = new { limit = 0 } }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, "/search?next_batch=not-a-token", Criteria(word), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var recent = await SearchAsync(alice, word, new { order_by = "recent", filter = new { limit = 1 } });
        var next = NextBatch(recent)!;
        await alice.FailsAsync(Post, "/search?next_batch=" + E(next), Criteria(word, new { order_by = "rank" }), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        using (var anonymous = await alice.RawAsync(Post, "/search", JsonSerializer.Serialize(Criteria(word)), authenticated: false))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        // No category this server searches: an empty answer, as other servers give.
        Assert.Equal("{}", (await alice.OkAsync(Post, "/search", new { search_categories = new { } })).GetProperty("search_categories").GetRawText());
        Assert.Empty(ResultIds(await SearchAsync(alice, "  ?! ")));
    }
}

public sealed class SqliteSearchTests(SqliteServerFixture fixture) : SearchTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresSearchTests(PostgresServerFixture fixture) : SearchTests(fixture), IClassFixture<PostgresServerFixture>;
