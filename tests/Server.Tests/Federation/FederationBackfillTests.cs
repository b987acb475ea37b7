using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A user of server B joins a room of a resident server and pages <c>/messages</c> backwards past the join: B fetches the
/// room's earlier history from the resident's <c>/backfill</c>, checks each event, and serves it in order, once, down to
/// the room's creation; a second pagination reads it from B's store without asking again; history visibility holds for
/// the fetched events; an altered event is dropped (a broken signature) or redacted (a content hash that does not match);
/// a failing resident leaves the page as B holds it; B's /sync never shows the fetched events as new.
/// </summary>
public abstract class FederationBackfillTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const int Messages = 30;

    [Fact]
    public async Task Paging_back_past_the_join_gives_the_residents_history_in_order_once_then_from_the_store()
    {
        var probe = new BackfillProbe();
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(probe.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, bobSync) = await UserAsync(pair.B, "bob");
        var roomId = await RoomWithMessagesAsync(carl, "shared");

        await JoinThroughAsync(bob, roomId, residentName);
        var since = (await bobSync.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

        var (events, pages) = await PageBackAsync(bob, roomId);
        Assert.True(probe.Requests > 0);
        AssertWholeHistory(events, bob.UserId);
        Assert.True(pages > 1);

        // The second pagination reads B's store: the resident is not asked again.
        var requests = probe.Requests;
        var (again, _) = await PageBackAsync(bob, roomId);
        Assert.Equal(requests, probe.Requests);
        Assert.Equal(EventIds(events), EventIds(again));

        // Filters and lazy-loaded members act on backfilled events as on local ones.
        var filter = Uri.EscapeDataString("""{"types":["m.room.message"],"lazy_load_members":true}""");
        var filtered = await bob.MessagesAsync(roomId, $"dir=b&limit=1000&filter={filter}");
        Assert.Equal(Enumerable.Range(1, Messages).Reverse().Select(i => $"message {i}"),
            filtered.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("content").GetProperty("body").GetString()));
        var member = Assert.Single(filtered.GetProperty("state").EnumerateArray());
        Assert.Equal(carl.UserId, member.GetProperty("state_key").GetString());
        Assert.Equal(requests, probe.Requests);

        // Forwards from the oldest page's token the same events come back in the other order.
        var forward = await bob.MessagesAsync(roomId, $"dir=f&limit=1000&from={await OldestTokenAsync(bob, roomId)}");
        Assert.Equal(EventIds(events).AsEnumerable().Reverse(), forward.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!));

        // Nothing fetched shows up in B's /sync as new, nor enters B's event log.
        var sync = await bobSync.SyncSinceAsync(since, "timeout=0");
        if (sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.TryGetProperty(roomId, out var room))
            Assert.Empty(room.GetProperty("timeline").GetProperty("events").EnumerateArray());
        foreach (var e in events.Where(e => e.GetProperty("type").GetString() == "m.room.message"))
            Assert.Null(await pair.StoreOfB.Events.GetEventAsync(e.GetProperty("event_id").GetString()!, CancellationToken.None));
    }

    [Fact]
    public async Task A_history_longer_than_one_answer_comes_in_several_requests_and_stays_visible()
    {
        var probe = new BackfillProbe();
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(probe.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, _) = await UserAsync(pair.B, "bob");
        const int many = 150;
        var roomId = await RoomWithMessagesAsync(carl, "shared", many);
        await JoinThroughAsync(bob, roomId, residentName);

        var (events, _) = await PageBackAsync(bob, roomId, pageSize: 40);

        Assert.True(probe.Requests >= 2, $"{probe.Requests} backfill requests");
        var bodies = events.Where(e => e.GetProperty("type").GetString() == "m.room.message").Select(e => e.GetProperty("content").GetProperty("body").GetString());
        Assert.Equal(Enumerable.Range(1, many).Reverse().Select(i => $"message {i}"), bodies);
        Assert.Equal(EventIds(events).Distinct().Count(), events.Count);
        Assert.Equal("m.room.create", events[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task With_joined_visibility_the_user_sees_no_message_before_their_join()
    {
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true);
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, _) = await UserAsync(pair.B, "bob");
        var roomId = await RoomWithMessagesAsync(carl, "joined");

        await JoinThroughAsync(bob, roomId, residentName);
        var (events, _) = await PageBackAsync(bob, roomId);

        Assert.Equal(bob.UserId, events[0].GetProperty("state_key").GetString());
        Assert.DoesNotContain(events, e => e.GetProperty("type").GetString() == "m.room.message");
        // What came before the room turned 'joined' was under 'shared' (the default) and stays visible: the creation
        // events up to the visibility change itself, judged by the more permissive of its old and new value.
        Assert.Equal("m.room.history_visibility", events[1].GetProperty("type").GetString());
        Assert.Equal("m.room.create", events[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_altered_event_is_dropped_for_its_signature_and_redacted_for_its_content_hash()
    {
        var probe = new BackfillProbe { Alter = true };
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(probe.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, _) = await UserAsync(pair.B, "bob");
        var (roomId, sent) = await RoomWithMessagesAndIdsAsync(carl, "shared");

        await JoinThroughAsync(bob, roomId, residentName);
        var (events, _) = await PageBackAsync(bob, roomId);

        Assert.True(probe.Altered);
        var byId = events.ToDictionary(e => e.GetProperty("event_id").GetString()!);
        var messages = events.Where(e => e.GetProperty("type").GetString() == "m.room.message").ToList();
        Assert.Equal(Messages - 1, messages.Count);
        Assert.False(byId.ContainsKey(sent[6]), "the event whose signature does not verify is dropped");
        Assert.Empty(byId[sent[7]].GetProperty("content").EnumerateObject());
        var bodies = messages.Select(e => e.GetProperty("content").TryGetProperty("body", out var body) ? body.GetString() : null);
        Assert.Equal(Enumerable.Range(1, Messages).Where(i => i is not (7 or 8)).Reverse().Select(i => $"message {i}"), bodies.OfType<string>());
        Assert.Equal("m.room.create", events[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Two_users_paging_back_at_once_cause_one_backfill()
    {
        var probe = new BackfillProbe();
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(probe.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, _) = await UserAsync(pair.B, "bob");
        var (dave, _) = await UserAsync(pair.B, "dave");
        var roomId = await RoomWithMessagesAsync(carl, "shared");
        await JoinThroughAsync(bob, roomId, residentName);
        await JoinThroughAsync(dave, roomId, residentName);

        var pages = await Task.WhenAll(bob.MessagesAsync(roomId, "dir=b&limit=100"), dave.MessagesAsync(roomId, "dir=b&limit=100"));

        // The whole room fits one backfill answer: one request, both pages whole.
        Assert.Equal(1, probe.Requests);
        foreach (var page in pages)
        {
            var bodies = page.GetProperty("chunk").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "m.room.message")
                .Select(e => e.GetProperty("content").GetProperty("body").GetString());
            Assert.Equal(Enumerable.Range(1, Messages).Reverse().Select(i => $"message {i}"), bodies);
        }
    }

    [Fact]
    public async Task A_failing_resident_leaves_the_page_as_held_here_and_the_next_request_asks_again()
    {
        var probe = new BackfillProbe { Fail = true };
        var (resident, residentName) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(probe.InvokeAsync));
        var (carl, _) = await UserAsync(resident, "carl");
        var (bob, _) = await UserAsync(pair.B, "bob");
        var roomId = await RoomWithMessagesAsync(carl, "shared");
        await JoinThroughAsync(bob, roomId, residentName);

        var first = await bob.MessagesAsync(roomId, "dir=b&limit=10");
        var held = Assert.Single(first.GetProperty("chunk").EnumerateArray());
        Assert.Equal(bob.UserId, held.GetProperty("state_key").GetString());
        Assert.True(probe.Requests > 0);
        var end = first.GetProperty("end").GetString()!;

        probe.Fail = false;
        var next = await bob.MessagesAsync(roomId, $"dir=b&limit=10&from={end}");
        var bodies = next.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("content").TryGetProperty("body", out var b) ? b.GetString() : null);
        Assert.Equal(Enumerable.Range(Messages - 9, 10).Reverse().Select(i => $"message {i}"), bodies);
    }

    /// <summary>A room of the resident with the given history visibility and <see cref="Messages"/> messages.</summary>
    private static async Task<string> RoomWithMessagesAsync(RoomsClient owner, string visibility, int count = Messages) =>
        (await RoomWithMessagesAndIdsAsync(owner, visibility, count)).RoomId;

    /// <summary>The room and the ids of its messages, oldest first.</summary>
    private static async Task<(string RoomId, List<string> Sent)> RoomWithMessagesAndIdsAsync(RoomsClient owner, string visibility, int count = Messages)
    {
        var roomId = await owner.CreateRoomAsync(new
        {
            preset = "public_chat",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = visibility } } },
        });
        var sent = new List<string>();
        for (var i = 1; i <= count; i++) sent.Add(await owner.SendTextAsync(roomId, $"message {i}"));
        return (roomId, sent);
    }

    /// <summary>The whole timeline backwards, a page at a time, until a page has no 'end'.</summary>
    private static async Task<(List<JsonElement> Events, int Pages)> PageBackAsync(RoomsClient user, string roomId, int pageSize = 7)
    {
        var events = new List<JsonElement>();
        string? from = null;
        for (var pages = 1; pages < 100; pages++)
        {
            var page = await user.MessagesAsync(roomId, $"dir=b&limit={pageSize}" + (from is null ? "" : $"&from={from}"));
            events.AddRange(page.GetProperty("chunk").EnumerateArray().Select(e => e.Clone()));
            if (!page.TryGetProperty("end", out var end)) return (events, pages);
            from = end.GetString();
        }
        throw new InvalidOperationException("The pagination did not end.");
    }

    private static async Task<string> OldestTokenAsync(RoomsClient user, string roomId)
    {
        string? from = null;
        string token = "";
        while (true)
        {
            var page = await user.MessagesAsync(roomId, "dir=b&limit=1" + (from is null ? "" : $"&from={from}"));
            if (!page.TryGetProperty("end", out var end)) return token;
            token = end.GetString()!;
            from = token;
        }
    }

    /// <summary>Newest first: the user's join, the messages from the last to the first, then the room's creation state, ending with the create event.</summary>
    private static void AssertWholeHistory(List<JsonElement> events, string joiner)
    {
        Assert.Equal(EventIds(events).Distinct().Count(), events.Count);
        Assert.Equal(joiner, events[0].GetProperty("state_key").GetString());
        var bodies = events.Where(e => e.GetProperty("type").GetString() == "m.room.message")
            .Select(e => e.GetProperty("content").GetProperty("body").GetString()).ToList();
        Assert.Equal(Enumerable.Range(1, Messages).Reverse().Select(i => $"message {i}"), bodies);
        Assert.Equal("m.room.create", events[^1].GetProperty("type").GetString());
        var firstMessage = events.FindIndex(e => e.GetProperty("type").GetString() == "m.room.message");
        var lastMessage = events.FindLastIndex(e => e.GetProperty("type").GetString() == "m.room.message");
        Assert.Equal(Messages, lastMessage - firstMessage + 1);
        // The room's creation state comes once, in its place, below the messages.
        Assert.Single(events, e => e.GetProperty("type").GetString() == "m.room.history_visibility");
        Assert.True(events.FindIndex(e => e.GetProperty("type").GetString() == "m.room.history_visibility") > lastMessage);
    }

    private static Task<JsonElement> JoinThroughAsync(RoomsClient user, string roomId, string serverName) =>
        user.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(serverName)}", new { });

    private static List<string> EventIds(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("event_id").GetString()!).ToList();

    private async Task<(RoomsClient Rooms, SyncUser Sync)> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        var http = pair.ClientFor(server);
        return (new RoomsClient(http, user), new SyncUser(http, user.UserId, user.DeviceId, user.AccessToken));
    }

    /// <summary>
    /// Counts the backfill requests the server it runs in answers; can fail them (500), or alter two events of each
    /// answer: <see cref="SignatureBroken"/> gets another origin_server_ts (its signature no longer verifies),
    /// <see cref="ContentAltered"/> another body (its content hash no longer matches).
    /// </summary>
    private sealed class BackfillProbe
    {
        public const string SignatureBroken = "message 7";
        public const string ContentAltered = "message 8";

        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public volatile bool Fail;
        public volatile bool Alter;
        public volatile bool Altered;

        public async Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            if (!context.Request.Path.Value!.StartsWith("/_matrix/federation/v1/backfill/", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }
            Interlocked.Increment(ref _requests);
            if (Fail)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsJsonAsync(new { errcode = "M_UNKNOWN", error = "Failing on purpose." });
                return;
            }
            if (!Alter)
            {
                await next(context);
                return;
            }
            var original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            await next(context);
            context.Response.Body = original;
            var answer = JsonNode.Parse(buffer.ToArray())!.AsObject();
            foreach (var e in answer["pdus"]!.AsArray().OfType<JsonObject>())
            {
                var body = e["content"]?["body"]?.GetValue<string>();
                if (body == SignatureBroken)
                {
                    e["origin_server_ts"] = e["origin_server_ts"]!.GetValue<long>() + 1;
                    Altered = true;
                }
                if (body == ContentAltered)
                {
                    e["content"]!["body"] = "altered";
                    Altered = true;
                }
            }
            var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
            context.Response.ContentLength = bytes.Length;
            await original.WriteAsync(bytes);
        }
    }
}

public sealed class SqliteFederationBackfillTests(SqliteFederationPair pair)
    : FederationBackfillTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederationBackfillTests(PostgresFederationPair pair)
    : FederationBackfillTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
