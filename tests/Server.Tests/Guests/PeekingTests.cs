using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Guests;

public sealed class SqlitePeekingTests(SqliteGuestServerFixture fixture) : PeekingTests(fixture), IClassFixture<SqliteGuestServerFixture>;

public sealed class PostgresPeekingTests(PostgresGuestServerFixture fixture) : PeekingTests(fixture), IClassFixture<PostgresGuestServerFixture>;

/// <summary>
/// Room previews and the legacy sync API over HTTP: GET /rooms/{roomId}/initialSync, GET /events (with and without
/// room_id) and GET /initialSync, for members, former members, non-members and guests.
/// </summary>
public abstract class PeekingTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private async Task<RoomsClient> GuestAsync()
    {
        using var response = await Server.Client.PostAsync($"{V3}/register?kind=guest", "{}");
        var body = await response.OkJsonAsync();
        return new RoomsClient(Server.Client, new TestUser(
            body.GetProperty("user_id").GetString()!, body.GetProperty("device_id").GetString()!, body.GetProperty("access_token").GetString()!));
    }

    /// <summary>A public room that becomes world_readable after <c>before</c> was sent, then gets <c>after</c>.</summary>
    private static async Task<(string RoomId, string Before, string VisibilityChange, string After)> WorldReadableRoomAsync(RoomsClient owner, object? create = null)
    {
        var roomId = await owner.CreateRoomAsync(create ?? new { preset = "public_chat" });
        var before = await owner.SendTextAsync(roomId, "before world_readable");
        var change = await owner.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "world_readable" });
        var after = await owner.SendTextAsync(roomId, "while world_readable");
        return (roomId, before, change, after);
    }

    [Fact]
    public async Task A_members_room_initial_sync_has_the_newest_messages_in_order_the_state_visibility_and_account_data()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", visibility = "public", name = "Lobby" });
        var sent = new List<string>();
        for (var i = 0; i < 4; i++) sent.Add(await alice.SendTextAsync(roomId, $"message {i}"));
        await alice.OkAsync(Put, $"/user/{E(alice.UserId)}/rooms/{E(roomId)}/account_data/m.tag", new { tags = new { work = new { order = 0.5 } } });

        var sync = await alice.OkAsync(Get, $"/rooms/{E(roomId)}/initialSync?limit=3");

        Assert.Equal(roomId, sync.GetProperty("room_id").GetString());
        Assert.Equal("join", sync.GetProperty("membership").GetString());
        Assert.Equal("public", sync.GetProperty("visibility").GetString());
        var messages = sync.GetProperty("messages");
        Assert.Equal(sent[1..], EventIds(messages.GetProperty("chunk")));
        Assert.All(messages.GetProperty("chunk").EnumerateArray(), e => Assert.Equal(roomId, e.GetProperty("room_id").GetString()));
        Assert.Equal("Lobby", FindState(sync.GetProperty("state"), "m.room.name")!.Value.GetProperty("content").GetProperty("name").GetString());
        Assert.NotNull(FindState(sync.GetProperty("state"), "m.room.create"));
        Assert.NotNull(FindState(sync.GetProperty("state"), "m.room.member", alice.UserId));
        var tag = Assert.Single(sync.GetProperty("account_data").EnumerateArray());
        Assert.Equal("m.tag", tag.GetProperty("type").GetString());
        Assert.Equal(0.5, tag.GetProperty("content").GetProperty("tags").GetProperty("work").GetProperty("order").GetDouble());

        // start pages back to the earlier events with /messages; end is where the chunk stops.
        var earlier = await alice.MessagesAsync(roomId, $"dir=b&limit=1&from={E(messages.GetProperty("start").GetString()!)}");
        Assert.Equal([sent[0]], EventIds(earlier.GetProperty("chunk")));
        var later = await alice.MessagesAsync(roomId, $"dir=f&from={E(messages.GetProperty("end").GetString()!)}");
        Assert.Empty(later.GetProperty("chunk").EnumerateArray());
    }

    [Fact]
    public async Task A_non_member_cannot_peek_into_a_room_that_is_not_world_readable()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var guest = await GuestAsync();
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SendTextAsync(roomId, "members only");

        foreach (var outsider in new[] { bob, guest })
        {
            await outsider.FailsAsync(Get, $"/rooms/{E(roomId)}/initialSync", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await outsider.FailsAsync(Get, $"/events?room_id={E(roomId)}&timeout=0", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        }
    }

    [Fact]
    public async Task Non_members_and_guests_peek_into_a_world_readable_room_and_see_only_what_was_world_readable()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var guest = await GuestAsync();
        var (roomId, before, change, after) = await WorldReadableRoomAsync(alice);

        foreach (var peeker in new[] { bob, guest })
        {
            var sync = await peeker.OkAsync(Get, $"/rooms/{E(roomId)}/initialSync");

            Assert.Equal(roomId, sync.GetProperty("room_id").GetString());
            Assert.False(sync.TryGetProperty("membership", out _));
            var chunk = EventIds(sync.GetProperty("messages").GetProperty("chunk"));
            Assert.DoesNotContain(before, chunk);
            Assert.Equal([change, after], chunk);
            Assert.Equal("world_readable",
                FindState(sync.GetProperty("state"), "m.room.history_visibility")!.Value.GetProperty("content").GetProperty("history_visibility").GetString());
            Assert.Empty(sync.GetProperty("account_data").EnumerateArray());
            Assert.Null(await MembershipAsync(alice, roomId, peeker.UserId));
        }
    }

    [Fact]
    public async Task A_peeker_resolves_an_alias_then_peeks_by_room_id()
    {
        var alice = await UserAsync("alice");
        var guest = await GuestAsync();
        var (roomId, _, _, after) = await WorldReadableRoomAsync(alice);
        var alias = $"#peek-{Guid.NewGuid():N}:localhost";
        await alice.OkAsync(Put, $"/directory/room/{E(alias)}", new { room_id = roomId });

        using var resolvedResponse = await guest.RawAsync(Get, $"/directory/room/{E(alias)}", null, authenticated: false);
        var resolved = await resolvedResponse.OkJsonAsync();
        var sync = await guest.OkAsync(Get, $"/rooms/{E(resolved.GetProperty("room_id").GetString()!)}/initialSync");

        Assert.Equal(roomId, sync.GetProperty("room_id").GetString());
        Assert.Contains(after, EventIds(sync.GetProperty("messages").GetProperty("chunk")));
    }

    [Fact]
    public async Task Room_events_stream_waits_for_new_events_and_continues_from_its_end_token()
    {
        var alice = await UserAsync("alice");
        var guest = await GuestAsync();
        var (roomId, _, _, _) = await WorldReadableRoomAsync(alice);
        var end = (await guest.OkAsync(Get, $"/rooms/{E(roomId)}/initialSync")).GetProperty("messages").GetProperty("end").GetString()!;

        var idle = await guest.OkAsync(Get, $"/events?room_id={E(roomId)}&from={E(end)}&timeout=100");
        Assert.Empty(idle.GetProperty("chunk").EnumerateArray());
        Assert.Equal(end, idle.GetProperty("start").GetString());
        Assert.Equal(end, idle.GetProperty("end").GetString());

        var waiting = guest.OkAsync(Get, $"/events?room_id={E(roomId)}&from={E(end)}&timeout=20000");
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        var sent = await alice.SendTextAsync(roomId, "live");
        var events = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        var e = Assert.Single(events.GetProperty("chunk").EnumerateArray());
        Assert.Equal(sent, e.GetProperty("event_id").GetString());
        Assert.Equal(roomId, e.GetProperty("room_id").GetString());
        Assert.Equal("live", e.GetProperty("content").GetProperty("body").GetString());
        var next = events.GetProperty("end").GetString()!;
        Assert.NotEqual(end, next);

        var third = await alice.SendTextAsync(roomId, "third");
        var more = await guest.OkAsync(Get, $"/events?room_id={E(roomId)}&from={E(next)}&timeout=0");
        Assert.Equal([third], EventIds(more.GetProperty("chunk")));
    }

    [Fact]
    public async Task A_room_that_stops_being_world_readable_can_no_longer_be_peeked()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var (roomId, _, _, _) = await WorldReadableRoomAsync(alice);
        var end = (await bob.OkAsync(Get, $"/rooms/{E(roomId)}/initialSync")).GetProperty("messages").GetProperty("end").GetString()!;

        await alice.SetStateAsync(roomId, "m.room.history_visibility", new { history_visibility = "shared" });
        await alice.SendTextAsync(roomId, "members only again");

        // As Synapse, the room's current visibility decides whether a non-member may peek at all.
        await bob.FailsAsync(Get, $"/events?room_id={E(roomId)}&from={E(end)}&timeout=0", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Get, $"/rooms/{E(roomId)}/initialSync", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Room_events_stream_refuses_a_token_that_is_not_a_room_token()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        await alice.FailsAsync(Get, $"/events?room_id={E(roomId)}&from=nonsense", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/events?room_id={E(roomId)}&timeout=soon", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/initialSync?limit=-1", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/events?room_id={E(roomId)}&limit=-1", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, "/events?limit=many", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, "/initialSync?limit=ten", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, "/initialSync?archived=maybe", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Room_events_stream_pages_by_limit_without_losing_events()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var end = (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/initialSync?limit=0")).GetProperty("messages").GetProperty("end").GetString()!;
        var sent = new[] { await alice.SendTextAsync(roomId, "one"), await alice.SendTextAsync(roomId, "two"), await alice.SendTextAsync(roomId, "three") };

        var received = new List<string>();
        var from = end;
        for (var i = 0; i < 3; i++)
        {
            var page = await alice.OkAsync(Get, $"/events?room_id={E(roomId)}&from={E(from)}&limit=1&timeout=0");
            received.AddRange(EventIds(page.GetProperty("chunk")));
            from = page.GetProperty("end").GetString()!;
        }

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task A_former_member_sees_the_room_as_it_was_when_they_left()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var seen = await alice.SendTextAsync(roomId, "bob sees this");
        await bob.LeaveAsync(roomId);
        var unseen = await alice.SendTextAsync(roomId, "bob is gone");
        await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "after bob" });

        var sync = await bob.OkAsync(Get, $"/rooms/{E(roomId)}/initialSync");

        Assert.Equal("leave", sync.GetProperty("membership").GetString());
        var chunk = EventIds(sync.GetProperty("messages").GetProperty("chunk"));
        Assert.Contains(seen, chunk);
        Assert.DoesNotContain(unseen, chunk);
        Assert.Null(FindState(sync.GetProperty("state"), "m.room.topic"));
    }

    [Fact]
    public async Task Initial_sync_lists_joined_invited_and_on_request_left_rooms_and_its_end_token_feeds_the_events_stream()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var joined = await bob.CreateRoomAsync(new { name = "Joined" });
        var message = await bob.SendTextAsync(joined, "hello");
        var invited = await alice.CreateRoomAsync();
        await alice.InviteAsync(invited, bob.UserId);
        var left = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(left);
        await bob.LeaveAsync(left);
        await bob.OkAsync(Put, $"/user/{E(bob.UserId)}/account_data/org.example.settings", new { theme = "dark" });

        var sync = await bob.OkAsync(Get, "/initialSync?limit=5");

        Assert.Empty(sync.GetProperty("presence").EnumerateArray());
        var rooms = sync.GetProperty("rooms").EnumerateArray().ToDictionary(r => r.GetProperty("room_id").GetString()!);
        Assert.Equal(new[] { invited, joined }.Order(StringComparer.Ordinal), rooms.Keys.Order(StringComparer.Ordinal));
        Assert.False(rooms.ContainsKey(left));
        Assert.Equal("join", rooms[joined].GetProperty("membership").GetString());
        Assert.Contains(message, EventIds(rooms[joined].GetProperty("messages").GetProperty("chunk")));
        Assert.NotNull(FindState(rooms[joined].GetProperty("state"), "m.room.name"));
        Assert.Equal("invite", rooms[invited].GetProperty("membership").GetString());
        Assert.Equal(alice.UserId, rooms[invited].GetProperty("invite").GetProperty("sender").GetString());
        Assert.Contains(sync.GetProperty("account_data").EnumerateArray(), e => e.GetProperty("type").GetString() == "org.example.settings");

        var archived = await bob.OkAsync(Get, "/initialSync?archived=true");
        var withLeft = archived.GetProperty("rooms").EnumerateArray().ToDictionary(r => r.GetProperty("room_id").GetString()!);
        Assert.Equal("leave", withLeft[left].GetProperty("membership").GetString());

        var end = sync.GetProperty("end").GetString()!;
        var idle = await bob.OkAsync(Get, $"/events?from={E(end)}&timeout=0");
        Assert.Empty(idle.GetProperty("chunk").EnumerateArray());
        var waiting = bob.OkAsync(Get, $"/events?from={E(end)}&timeout=20000");
        await Task.Delay(200);
        var live = await bob.SendTextAsync(joined, "live");
        var events = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        var e = Assert.Single(events.GetProperty("chunk").EnumerateArray(), e => e.GetProperty("event_id").GetString() == live);
        Assert.Equal(joined, e.GetProperty("room_id").GetString());
        Assert.Equal(end, events.GetProperty("start").GetString());
        var next = events.GetProperty("end").GetString()!;
        var after = await bob.OkAsync(Get, $"/events?from={E(next)}&timeout=0");
        Assert.DoesNotContain(live, EventIds(after.GetProperty("chunk")));
    }

    [Fact]
    public async Task The_legacy_event_endpoint_finds_an_event_by_id_for_those_who_may_see_it()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var hidden = await alice.SendTextAsync(roomId, "members only");
        var (worldReadable, _, _, visible) = await WorldReadableRoomAsync(alice);

        var e = await alice.OkAsync(Get, $"/events/{E(hidden)}");
        Assert.Equal(hidden, e.GetProperty("event_id").GetString());
        Assert.Equal(roomId, e.GetProperty("room_id").GetString());
        Assert.Equal("members only", e.GetProperty("content").GetProperty("body").GetString());
        Assert.Equal(worldReadable, (await bob.OkAsync(Get, $"/events/{E(visible)}")).GetProperty("room_id").GetString());

        await bob.FailsAsync(Get, $"/events/{E(hidden)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Get, $"/events/{E("$unknown-event")}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Get, "/events/not-an-event-id", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Guests_may_not_use_initial_sync_nor_the_users_events_stream()
    {
        var guest = await GuestAsync();

        await guest.FailsAsync(Get, "/initialSync", null, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        await guest.FailsAsync(Get, "/events?timeout=0", null, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
    }
}
