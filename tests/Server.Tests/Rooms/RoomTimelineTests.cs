using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Rooms;

public abstract class RoomTimelineTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static string MessagesOnly => "filter=" + E("{\"types\":[\"m.room.message\"]}");

    [Fact]
    public async Task A_sent_event_reads_back_in_client_format_with_its_transaction_id_for_the_sending_device_only()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var otherDevice = new RoomsClient(Server.Client, await TestUsers.AddDeviceAsync(Server, alice.User, "OTHERDEVICE"));

        var eventId = await alice.SendAsync(roomId, new { msgtype = "m.text", body = "héllo ✓" }, txnId: "my/txn");

        var seen = await alice.GetEventAsync(roomId, eventId);
        Assert.Equal(eventId, seen.GetProperty("event_id").GetString());
        Assert.Equal("m.room.message", seen.GetProperty("type").GetString());
        Assert.Equal(roomId, seen.GetProperty("room_id").GetString());
        Assert.Equal(alice.UserId, seen.GetProperty("sender").GetString());
        Assert.Equal("héllo ✓", seen.GetProperty("content").GetProperty("body").GetString());
        Assert.True(seen.GetProperty("origin_server_ts").GetInt64() > 0);
        Assert.Equal("my/txn", seen.GetProperty("unsigned").GetProperty("transaction_id").GetString());
        Assert.True(seen.GetProperty("unsigned").GetProperty("age").GetInt64() >= 0);
        foreach (var federationOnly in new[] { "auth_events", "prev_events", "hashes", "signatures", "depth" })
            Assert.False(seen.TryGetProperty(federationOnly, out _), federationOnly);

        var elsewhere = await otherDevice.GetEventAsync(roomId, eventId);
        Assert.False(elsewhere.GetProperty("unsigned").TryGetProperty("transaction_id", out _));
        Assert.False(elsewhere.GetProperty("unsigned").TryGetProperty("hs.transaction", out _));
    }

    [Fact]
    public async Task The_same_transaction_id_twice_sends_one_event()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        var first = await alice.SendAsync(roomId, new { body = "once" }, txnId: "same");
        var second = await alice.SendAsync(roomId, new { body = "once" }, txnId: "same");
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => alice.SendAsync(roomId, new { body = "racing" }, txnId: "race")));
        var otherDevice = new RoomsClient(Server.Client, await TestUsers.AddDeviceAsync(Server, alice.User, "SECONDDEVICE"));
        var fromOtherDevice = await otherDevice.SendAsync(roomId, new { body = "once" }, txnId: "same");

        Assert.Equal(first, second);
        Assert.Single(concurrent.Distinct());
        Assert.NotEqual(first, fromOtherDevice);
        var messages = (await alice.MessagesAsync(roomId, "dir=f&" + MessagesOnly)).GetProperty("chunk");
        Assert.Equal([first, concurrent[0], fromOtherDevice], EventIds(messages));
    }

    [Fact]
    public async Task Concurrent_senders_all_land_in_one_linear_timeline_in_their_own_order()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var senders = new List<RoomsClient> { alice };
        for (var i = 0; i < 4; i++)
        {
            var member = await UserAsync($"sender{i}");
            await member.JoinAsync(roomId);
            senders.Add(member);
        }

        var sent = await Task.WhenAll(senders.Select(async sender =>
        {
            var ids = new List<string>();
            for (var i = 0; i < 12; i++) ids.Add(await sender.SendTextAsync(roomId, $"{sender.UserId} {i}"));
            return (Sender: sender.UserId, Ids: ids);
        }));

        var timeline = (await alice.MessagesAsync(roomId, $"dir=f&limit=200&{MessagesOnly}")).GetProperty("chunk");
        Assert.Equal(60, timeline.GetArrayLength());
        foreach (var (sender, ids) in sent)
        {
            var fromSender = timeline.EnumerateArray().Where(e => e.GetProperty("sender").GetString() == sender).Select(e => e.GetProperty("event_id").GetString());
            Assert.Equal(ids, fromSender);
        }
        var store = Server.App.Services.GetRequiredService<IHomeServerStore>();
        var stored = await store.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 1000, CancellationToken.None);
        for (var i = 1; i < stored.Count; i++)
        {
            using var json = JsonDocument.Parse(stored[i].Json);
            Assert.Equal(stored[i - 1].RoomPosition + 1, stored[i].RoomPosition);
            Assert.Equal([stored[i - 1].EventId], json.RootElement.GetProperty("prev_events").EnumerateArray().Select(p => p.GetString()));
            Assert.Equal(i + 1, json.RootElement.GetProperty("depth").GetInt64());
        }
    }

    [Fact]
    public async Task Redacting_strips_the_event_for_every_reader()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var bobs = await bob.SendAsync(roomId, new { msgtype = "m.text", body = "regrettable" });
        var alices = await alice.SendAsync(roomId, new { msgtype = "m.text", body = "mine" });

        await bob.FailsAsync(Put, $"/rooms/{E(roomId)}/redact/{E(alices)}/r1", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        var redaction = (await bob.OkAsync(Put, $"/rooms/{E(roomId)}/redact/{E(bobs)}/r2", new { reason = "oops" })).GetProperty("event_id").GetString()!;
        var again = (await bob.OkAsync(Put, $"/rooms/{E(roomId)}/redact/{E(bobs)}/r2", new { reason = "oops" })).GetProperty("event_id").GetString()!;
        var byModerator = await alice.SendAsync(roomId, new { redacts = alices, reason = "via send" }, type: "m.room.redaction");

        Assert.Equal(redaction, again);
        foreach (var reader in new[] { alice, bob })
        {
            var redacted = await reader.GetEventAsync(roomId, bobs);
            Assert.Empty(redacted.GetProperty("content").EnumerateObject());
            var because = redacted.GetProperty("unsigned").GetProperty("redacted_because");
            Assert.Equal(redaction, because.GetProperty("event_id").GetString());
            Assert.Equal("oops", because.GetProperty("content").GetProperty("reason").GetString());
        }
        var redactionEvent = await alice.GetEventAsync(roomId, redaction);
        Assert.Equal(bobs, redactionEvent.GetProperty("redacts").GetString());
        Assert.Empty((await bob.GetEventAsync(roomId, alices)).GetProperty("content").EnumerateObject());
        Assert.Equal(alices, (await alice.GetEventAsync(roomId, byModerator)).GetProperty("redacts").GetString());
        var timeline = (await alice.MessagesAsync(roomId, "dir=b&limit=4")).GetProperty("chunk");
        Assert.Contains(timeline.EnumerateArray(), e => e.GetProperty("event_id").GetString() == bobs
            && !e.GetProperty("content").EnumerateObject().Any());
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/redact/{E("$" + new string('A', 43))}/r3", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/send/m.room.redaction/r4", new { reason = "no target" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
    }

    [Fact]
    public async Task Redacting_in_room_version_11_keeps_redacts_in_the_content_and_strips_state()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync(new { room_version = "11", name = "named" });
        var nameEvent = EventIds((await alice.MessagesAsync(roomId, "dir=b&limit=1")).GetProperty("chunk"))[0];

        var redaction = (await alice.OkAsync(Put, $"/rooms/{E(roomId)}/redact/{E(nameEvent)}/r", new { })).GetProperty("event_id").GetString()!;

        Assert.Equal(nameEvent, (await alice.GetEventAsync(roomId, redaction)).GetProperty("content").GetProperty("redacts").GetString());
        Assert.Empty((await alice.GetStateEventAsync(roomId, "m.room.name")).EnumerateObject());
    }

    [Fact]
    public async Task Messages_paginate_backwards_and_forwards_without_gaps_or_duplicates()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var sent = new List<string>();
        for (var i = 0; i < 25; i++) sent.Add(await alice.SendTextAsync(roomId, $"m{i}"));

        var backwards = new List<string>();
        string? from = null;
        var pages = 0;
        while (true)
        {
            var page = await alice.MessagesAsync(roomId, $"dir=b&limit=7&{MessagesOnly}" + (from is null ? "" : $"&from={from}"));
            if (from is not null) Assert.Equal(from, page.GetProperty("start").GetString());
            backwards.AddRange(EventIds(page.GetProperty("chunk")));
            pages++;
            if (!page.TryGetProperty("end", out var end)) break;
            from = end.GetString();
        }
        Assert.Equal(Enumerable.Reverse(sent), backwards);
        Assert.InRange(pages, 4, 5);

        var forwards = new List<string>();
        from = null;
        while (true)
        {
            var page = await alice.MessagesAsync(roomId, $"dir=f&limit=10&{MessagesOnly}" + (from is null ? "" : $"&from={from}"));
            forwards.AddRange(EventIds(page.GetProperty("chunk")));
            if (!page.TryGetProperty("end", out var end)) break;
            from = end.GetString();
        }
        Assert.Equal(sent, forwards);

        var latest = await alice.MessagesAsync(roomId, "dir=b");
        Assert.Equal(10, latest.GetProperty("chunk").GetArrayLength());
        var middle = await alice.MessagesAsync(roomId, $"dir=b&limit=3&{MessagesOnly}");
        var end3 = middle.GetProperty("end").GetString();
        var upTo = await alice.MessagesAsync(roomId, $"dir=f&from={end3}&to={middle.GetProperty("start").GetString()}&limit=50");
        Assert.Equal(sent[^3..], EventIds(upTo.GetProperty("chunk")));
        Assert.False(upTo.TryGetProperty("end", out _));
    }

    [Fact]
    public async Task Message_filters_select_types_senders_and_urls()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob", displayName: "Bobby");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await alice.SendTextAsync(roomId, "a1");
        await bob.SendTextAsync(roomId, "b1");
        await bob.SendAsync(roomId, new { msgtype = "m.image", body = "pic", url = "mxc://localhost/pic" });
        await alice.SendAsync(roomId, new { body = "custom" }, type: "org.example.event");

        async Task<string[]> TypesAsync(string filter) =>
            Types((await alice.MessagesAsync(roomId, $"dir=f&limit=50&filter={E(filter)}")).GetProperty("chunk"));

        Assert.Equal(["m.room.message", "m.room.message", "m.room.message"], await TypesAsync("{\"types\":[\"m.room.message\"]}"));
        Assert.Equal(["org.example.event"], await TypesAsync("{\"types\":[\"org.*\"]}"));
        Assert.DoesNotContain("m.room.message", await TypesAsync("{\"not_types\":[\"m.room.mess*\"]}"));
        Assert.Equal(["m.room.member", "m.room.message", "m.room.message"], await TypesAsync($"{{\"senders\":[\"{bob.UserId}\"]}}"));
        Assert.Empty(await TypesAsync($"{{\"not_senders\":[\"{alice.UserId}\"],\"types\":[\"org.example.event\"]}}"));
        Assert.Equal(["m.room.message"], await TypesAsync("{\"contains_url\":true}"));
        Assert.Empty(await TypesAsync("{\"rooms\":[\"!elsewhere:localhost\"]}"));

        var lazy = await alice.MessagesAsync(roomId, $"dir=b&limit=2&filter={E("{\"lazy_load_members\":true}")}");
        var state = lazy.GetProperty("state");
        Assert.Equal(["m.room.member", "m.room.member"], Types(state));
        Assert.Equal("Bobby", FindState(state, "m.room.member", bob.UserId)!.Value.GetProperty("content").GetProperty("displayname").GetString());
        Assert.False((await alice.MessagesAsync(roomId, "dir=b&limit=2")).TryGetProperty("state", out _));
        var limited = await alice.MessagesAsync(roomId, $"dir=b&filter={E("{\"limit\":1}")}");
        Assert.Equal(1, limited.GetProperty("chunk").GetArrayLength());
    }

    [Fact]
    public async Task History_visibility_decides_what_later_members_and_former_members_see()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var shared = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var joinedOnly = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = new { history_visibility = "joined" } } },
        });
        var early = await alice.SendTextAsync(shared, "early");
        var hidden = await alice.SendTextAsync(joinedOnly, "before bob");

        await bob.JoinAsync(shared);
        await bob.JoinAsync(joinedOnly);
        await carol.JoinAsync(shared);
        await bob.SendTextAsync(shared, "while joined");
        await bob.LeaveAsync(shared);
        var after = await alice.SendTextAsync(shared, "after bob left");

        Assert.Equal(["early"], Bodies((await carol.MessagesAsync(shared, $"dir=b&{MessagesOnly}&limit=1&from=t7")).GetProperty("chunk")));
        Assert.Equal(["after bob left", "while joined", "early"], Bodies((await carol.MessagesAsync(shared, $"dir=b&{MessagesOnly}")).GetProperty("chunk")));
        // Shared history is visible to whoever "joined the room at any point after the event was sent" (the spec), so a
        // former member still sees what came before their join, but nothing after their leave.
        Assert.Equal(["while joined", "early"], Bodies((await bob.MessagesAsync(shared, $"dir=b&{MessagesOnly}")).GetProperty("chunk")));
        await bob.FailsAsync(Get, $"/rooms/{E(shared)}/event/{E(after)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal(early, (await bob.GetEventAsync(shared, early)).GetProperty("event_id").GetString());
        Assert.Empty(Bodies((await bob.MessagesAsync(joinedOnly, $"dir=b&{MessagesOnly}")).GetProperty("chunk")));
        await bob.FailsAsync(Get, $"/rooms/{E(joinedOnly)}/event/{E(hidden)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        var bobsJoin = (await bob.MessagesAsync(joinedOnly, "dir=b")).GetProperty("chunk");
        Assert.Equal(bob.UserId, bobsJoin[0].GetProperty("state_key").GetString());
    }

    [Fact]
    public async Task Context_returns_the_events_around_one_and_tokens_to_continue()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync(new { name = "ctx" });
        var sent = new List<string>();
        for (var i = 0; i < 9; i++) sent.Add(await alice.SendTextAsync(roomId, $"c{i}"));

        var context = await alice.OkAsync(Get, $"/rooms/{E(roomId)}/context/{E(sent[4])}?limit=4");

        Assert.Equal(sent[4], context.GetProperty("event").GetProperty("event_id").GetString());
        Assert.Equal([sent[3], sent[2]], EventIds(context.GetProperty("events_before")));
        Assert.Equal([sent[5], sent[6]], EventIds(context.GetProperty("events_after")));
        Assert.Equal("ctx", FindState(context.GetProperty("state"), "m.room.name")!.Value.GetProperty("content").GetProperty("name").GetString());
        var older = await alice.MessagesAsync(roomId, $"dir=b&limit=2&from={context.GetProperty("start").GetString()}");
        Assert.Equal([sent[1], sent[0]], EventIds(older.GetProperty("chunk")));
        var newer = await alice.MessagesAsync(roomId, $"dir=f&limit=5&from={context.GetProperty("end").GetString()}");
        Assert.Equal([sent[7], sent[8]], EventIds(newer.GetProperty("chunk")));

        var lazy = await alice.OkAsync(Get, $"/rooms/{E(roomId)}/context/{E(sent[8])}?limit=0&filter={E("{\"lazy_load_members\":true}")}");
        Assert.Equal(0, lazy.GetProperty("events_before").GetArrayLength());
        Assert.Equal([alice.UserId], lazy.GetProperty("state").EnumerateArray().Select(e => e.GetProperty("state_key").GetString()));
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/context/{E("$" + new string('B', 43))}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task State_reads_give_the_current_state_or_the_state_when_the_user_left()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", name = "first" });
        await bob.JoinAsync(roomId);
        var nameId = await alice.SetStateAsync(roomId, "m.room.name", new { name = "second" });
        await alice.SetStateAsync(roomId, "org.example.slashed", new { v = 1 }, "a/b");
        await bob.LeaveAsync(roomId);
        await alice.SetStateAsync(roomId, "m.room.name", new { name = "third" });
        await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "added later" });

        var current = await alice.OkAsync(Get, $"/rooms/{E(roomId)}/state");
        Assert.Equal("third", FindState(current, "m.room.name")!.Value.GetProperty("content").GetProperty("name").GetString());
        Assert.Equal("second", FindState(current, "m.room.name")!.Value.GetProperty("unsigned").GetProperty("prev_content").GetProperty("name").GetString());
        Assert.Equal(1, (await alice.GetStateEventAsync(roomId, "org.example.slashed", "a/b")).GetProperty("v").GetInt32());

        var whenLeft = await bob.OkAsync(Get, $"/rooms/{E(roomId)}/state");
        Assert.Equal(nameId, FindState(whenLeft, "m.room.name")!.Value.GetProperty("event_id").GetString());
        Assert.Null(FindState(whenLeft, "m.room.topic"));
        Assert.Equal("leave", FindState(whenLeft, "m.room.member", bob.UserId)!.Value.GetProperty("content").GetProperty("membership").GetString());
        Assert.Equal("second", (await bob.GetStateEventAsync(roomId, "m.room.name")).GetProperty("name").GetString());

        var asEvent = await alice.OkAsync(Get, $"/rooms/{E(roomId)}/state/m.room.name?format=event");
        Assert.Equal("m.room.name", asEvent.GetProperty("type").GetString());
        Assert.Equal("", asEvent.GetProperty("state_key").GetString());
        Assert.Equal("third", asEvent.GetProperty("content").GetProperty("name").GetString());
        Assert.Equal("third", (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/state/m.room.name/")).GetProperty("name").GetString());
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/state/m.room.avatar", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/state/m.room.name?format=xml", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Canonical_aliases_must_be_valid_and_point_to_the_room()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var other = await alice.CreateRoomAsync();
        var mine = $"#mine{Guid.NewGuid():N}:localhost";
        var theirs = $"#theirs{Guid.NewGuid():N}:localhost";
        await alice.OkAsync(Put, $"/directory/room/{E(mine)}", new { room_id = roomId });
        await alice.OkAsync(Put, $"/directory/room/{E(theirs)}", new { room_id = other });

        await alice.SetStateAsync(roomId, "m.room.canonical_alias", new { alias = mine, alt_aliases = new[] { mine } });
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/state/m.room.canonical_alias/", new { alias = theirs }, HttpStatusCode.BadRequest, "M_BAD_ALIAS");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/state/m.room.canonical_alias/", new { alias = mine, alt_aliases = new[] { "not-an-alias" } },
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        Assert.Equal(mine, (await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).GetProperty("alias").GetString());
    }
}

public sealed class SqliteRoomTimelineTests(SqliteServerFixture fixture) : RoomTimelineTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomTimelineTests(PostgresServerFixture fixture) : RoomTimelineTests(fixture), IClassFixture<PostgresServerFixture>;
