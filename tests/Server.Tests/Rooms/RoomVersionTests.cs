using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>Every stable room version, 1 to 11, as a client uses it: create, join, send, redact, read back.</summary>
public abstract class RoomVersionTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    public static TheoryData<string> AllVersions => new(Enumerable.Range(1, 11).Select(v => v.ToString()));

    private static int Number(string version) => int.Parse(version);

    /// <summary>v1/v2 <c>$opaque:server</c>; v3 standard base64 of the reference hash; v4+ URL-safe base64.</summary>
    private static void AssertEventIdFormat(string version, string eventId)
    {
        var pattern = Number(version) switch
        {
            <= 2 => "^\\$[A-Za-z]+:localhost$",
            3 => "^\\$[A-Za-z0-9+/]{43}$",
            _ => "^\\$[A-Za-z0-9_-]{43}$",
        };
        Assert.True(Regex.IsMatch(eventId, pattern), $"room version {version}: {eventId} does not match {pattern}");
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task A_room_of_each_version_can_be_created_joined_used_and_redacted(string version)
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { room_version = version, preset = "public_chat", name = $"v{version}" });

        var creation = (await alice.MessagesAsync(roomId, "dir=f&limit=50")).GetProperty("chunk");
        var create = creation[0];
        Assert.Equal("m.room.create", create.GetProperty("type").GetString());
        Assert.Equal(version, create.GetProperty("content").GetProperty("room_version").GetString());
        Assert.Equal(Number(version) < 11, create.GetProperty("content").TryGetProperty("creator", out _));
        foreach (var id in EventIds(creation)) AssertEventIdFormat(version, id);

        await bob.JoinAsync(roomId);
        var message = await alice.SendTextAsync(roomId, "hello");
        AssertEventIdFormat(version, message);
        Assert.Equal("hello", (await bob.GetEventAsync(roomId, message)).GetProperty("content").GetProperty("body").GetString());

        // Every endpoint that takes an event ID in its path takes this version's (v3 IDs hold '/' and '+').
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(message)}", new { });
        var context = await bob.OkAsync(Get, $"/rooms/{E(roomId)}/context/{E(message)}?limit=2");
        Assert.Equal(message, context.GetProperty("event").GetProperty("event_id").GetString());

        var sync = await bob.OkAsync(Get, "/sync?timeout=0");
        var timeline = sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events");
        Assert.Contains(message, EventIds(timeline));

        var redaction = (await alice.OkAsync(Put, $"/rooms/{E(roomId)}/redact/{E(message)}/{alice.NextTxnId()}", new { reason = "oops" }))
            .GetProperty("event_id").GetString()!;
        AssertEventIdFormat(version, redaction);

        var chunk = (await bob.MessagesAsync(roomId, "dir=b&limit=5")).GetProperty("chunk");
        var redacted = chunk.EnumerateArray().Single(e => e.GetProperty("event_id").GetString() == message);
        Assert.Empty(redacted.GetProperty("content").EnumerateObject());
        var redactionEvent = chunk.EnumerateArray().Single(e => e.GetProperty("event_id").GetString() == redaction);
        // v11 moved redacts into the content; before, it is a top-level key.
        var redacts = Number(version) >= 11
            ? redactionEvent.GetProperty("content").GetProperty("redacts")
            : redactionEvent.GetProperty("redacts");
        Assert.Equal(message, redacts.GetString());

        var later = await bob.OkAsync(Get, $"/sync?timeout=0&since={E(sync.GetProperty("next_batch").GetString()!)}");
        var laterEvents = later.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events");
        Assert.Contains(redaction, EventIds(laterEvents));
        Assert.Empty((await bob.GetEventAsync(roomId, message)).GetProperty("content").EnumerateObject());
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task Fractions_are_refused_from_version_6_and_kept_before(string version)
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync(new { room_version = version });
        const string path = "/send/org.example.number/";
        using var response = await alice.RawAsync(Put, $"/rooms/{E(roomId)}{path}{alice.NextTxnId()}", """{ "n": 1.5 }""");
        if (Number(version) >= 6)
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
            return;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var eventId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("event_id").GetString()!;
        Assert.Equal("1.5", (await alice.GetEventAsync(roomId, eventId)).GetProperty("content").GetProperty("n").GetRawText());
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task Knocking_works_from_version_7_and_is_forbidden_before(string version)
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new
        {
            room_version = version,
            initial_state = new[] { new { type = "m.room.join_rules", state_key = "", content = new { join_rule = "knock" } } },
        });

        if (Number(version) < 7)
        {
            await bob.FailsAsync(Post, $"/knock/{E(roomId)}", new { reason = "let me in" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            Assert.Null(await MembershipAsync(alice, roomId, bob.UserId));
            return;
        }

        var knocked = await bob.OkAsync(Post, $"/knock/{E(roomId)}", new { reason = "let me in" });
        Assert.Equal(roomId, knocked.GetProperty("room_id").GetString());
        Assert.Equal("knock", await MembershipAsync(alice, roomId, bob.UserId));
        var member = await alice.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("let me in", member.GetProperty("reason").GetString());
        // A knock is no join: the knocker still needs an invite.
        await bob.FailsAsync(Post, $"/join/{E(roomId)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.InviteAsync(roomId, bob.UserId);
        await bob.JoinAsync(roomId);
        Assert.Equal("join", await MembershipAsync(alice, roomId, bob.UserId));
    }

    [Fact]
    public async Task Knocking_needs_a_knock_join_rule_and_a_known_room()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var publicRoom = await alice.CreateRoomAsync(new { room_version = "10", preset = "public_chat" });

        await bob.FailsAsync(Post, $"/knock/{E(publicRoom)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Post, $"/knock/{E("!nowhere:localhost")}", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Post, $"/knock/{E("#nowhere:localhost")}", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Post, "/knock/nowhere", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var alias = $"knock{Guid.NewGuid():N}";
        var knockRoom = await alice.CreateRoomAsync(new
        {
            room_version = "7",
            room_alias_name = alias,
            initial_state = new[] { new { type = "m.room.join_rules", state_key = "", content = new { join_rule = "knock" } } },
        });
        Assert.Equal(knockRoom, (await bob.OkAsync(Post, $"/knock/{E($"#{alias}:localhost")}", new { })).GetProperty("room_id").GetString());
        Assert.Equal("knock", await MembershipAsync(alice, knockRoom, bob.UserId));
        // The rules let a knocker knock again (only ban, invite and join forbid it); a member may not.
        await bob.OkAsync(Post, $"/knock/{E(knockRoom)}", new { reason = "still here" });
        Assert.Equal("knock", await MembershipAsync(alice, knockRoom, bob.UserId));
        await alice.FailsAsync(Post, $"/knock/{E(knockRoom)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task A_restricted_room_where_nobody_may_invite_admits_nobody_through_its_allow_list()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var space = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var roomId = await alice.CreateRoomAsync(new
        {
            room_version = "10",
            power_level_content_override = new { invite = 101 },
            initial_state = new[]
            {
                new
                {
                    type = "m.room.join_rules", state_key = "",
                    content = new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = space } } },
                },
            },
        });
        await bob.JoinAsync(space);

        await bob.FailsAsync(Post, $"/join/{E(roomId)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Null(await MembershipAsync(alice, roomId, bob.UserId));
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task Restricted_rooms_admit_members_of_an_allowed_room_from_version_8(string version)
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var space = await alice.CreateRoomAsync(new { room_version = "10", preset = "public_chat" });
        var roomId = await alice.CreateRoomAsync(new
        {
            room_version = version,
            initial_state = new[]
            {
                new
                {
                    type = "m.room.join_rules", state_key = "",
                    content = new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = space } } },
                },
            },
        });

        await bob.FailsAsync(Post, $"/join/{E(roomId)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.JoinAsync(space);

        if (Number(version) < 8)
        {
            // "restricted" is no join rule before v8: the room stays closed to the uninvited.
            await bob.FailsAsync(Post, $"/join/{E(roomId)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            return;
        }
        await bob.JoinAsync(roomId);
        var member = await alice.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("join", member.GetProperty("membership").GetString());
        Assert.Equal(alice.UserId, member.GetProperty("join_authorised_via_users_server").GetString());
    }
}

public sealed class SqliteRoomVersionTests(SqliteServerFixture fixture) : RoomVersionTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomVersionTests(PostgresServerFixture fixture) : RoomVersionTests(fixture), IClassFixture<PostgresServerFixture>;
