using System.Net;
using HomeServer.Grains.Rooms;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Server.Tests.Rooms;

public abstract class RoomMembershipTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    [Fact]
    public async Task An_invite_only_room_refuses_uninvited_users_and_admits_invited_ones()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob", displayName: "Bob B.");
        var roomId = await alice.CreateRoomAsync();

        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/join", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.OkAsync(Post, $"/rooms/{E(roomId)}/invite", new { user_id = bob.UserId, reason = "welcome" });
        Assert.Equal("invite", await MembershipAsync(alice, roomId, bob.UserId));
        var inviteAgain = await alice.OkAsync(Post, $"/rooms/{E(roomId)}/invite", new { user_id = bob.UserId });
        Assert.Empty(inviteAgain.EnumerateObject());

        var joined = await bob.OkAsync(Post, $"/rooms/{E(roomId)}/join", new { reason = "hello" });

        Assert.Equal(roomId, joined.GetProperty("room_id").GetString());
        Assert.Contains(roomId, await JoinedRoomsAsync(bob));
        var member = await bob.GetStateEventAsync(roomId, "m.room.member", bob.UserId);
        Assert.Equal("join", member.GetProperty("membership").GetString());
        Assert.Equal("Bob B.", member.GetProperty("displayname").GetString());
        Assert.Equal("hello", member.GetProperty("reason").GetString());
        var invites = (await alice.MessagesAsync(roomId, "dir=b&limit=50&filter=" + E("{\"types\":[\"m.room.member\"]}"))).GetProperty("chunk");
        Assert.Single(invites.EnumerateArray(), e => e.GetProperty("content").GetProperty("membership").GetString() == "invite");
    }

    [Fact]
    public async Task Users_can_leave_rejoin_a_public_room_and_reject_invites()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var privateRoom = await alice.CreateRoomAsync();

        await bob.JoinAsync(roomId);
        await bob.JoinAsync(roomId);
        await bob.LeaveAsync(roomId);
        Assert.DoesNotContain(roomId, await JoinedRoomsAsync(bob));
        Assert.Equal("leave", await MembershipAsync(alice, roomId, bob.UserId));
        using (var again = await bob.RawAsync(Post, $"/rooms/{E(roomId)}/leave", null))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await bob.JoinAsync(roomId);
        Assert.Contains(roomId, await JoinedRoomsAsync(bob));

        await alice.InviteAsync(privateRoom, carol.UserId);
        await carol.LeaveAsync(privateRoom);
        Assert.Equal("leave", await MembershipAsync(alice, privateRoom, carol.UserId));
        await carol.FailsAsync(Post, $"/rooms/{E(privateRoom)}/join", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Kicking_needs_the_kick_level_and_a_member_to_kick()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await carol.JoinAsync(roomId);

        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/kick", new { user_id = carol.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/kick", new { user_id = alice.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal("join", await MembershipAsync(alice, roomId, carol.UserId));

        await alice.OkAsync(Post, $"/rooms/{E(roomId)}/kick", new { user_id = carol.UserId, reason = "too loud" });

        var member = await alice.GetStateEventAsync(roomId, "m.room.member", carol.UserId);
        Assert.Equal("leave", member.GetProperty("membership").GetString());
        Assert.Equal("too loud", member.GetProperty("reason").GetString());
        Assert.DoesNotContain(roomId, await JoinedRoomsAsync(carol));
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/kick", new { user_id = carol.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await carol.JoinAsync(roomId);
    }

    [Fact]
    public async Task Banned_users_cannot_join_or_be_invited_until_unbanned()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await carol.JoinAsync(roomId);

        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/ban", new { user_id = carol.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.OkAsync(Post, $"/rooms/{E(roomId)}/ban", new { user_id = carol.UserId, reason = "spam" });

        Assert.Equal("ban", await MembershipAsync(alice, roomId, carol.UserId));
        Assert.Equal("spam", (await alice.GetStateEventAsync(roomId, "m.room.member", carol.UserId)).GetProperty("reason").GetString());
        await carol.FailsAsync(Post, $"/rooms/{E(roomId)}/join", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/invite", new { user_id = carol.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/unban", new { user_id = carol.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/unban", new { user_id = bob.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal("join", await MembershipAsync(alice, roomId, bob.UserId));

        await alice.OkAsync(Post, $"/rooms/{E(roomId)}/unban", new { user_id = carol.UserId, reason = "forgiven" });

        Assert.Equal("leave", await MembershipAsync(alice, roomId, carol.UserId));
        await carol.JoinAsync(roomId);
        Assert.Equal("join", await MembershipAsync(alice, roomId, carol.UserId));
    }

    [Fact]
    public async Task Joining_by_alias_resolves_local_aliases()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var alias = $"#joinme{Guid.NewGuid():N}:localhost";
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_alias_name = alias[1..^":localhost".Length] });

        var joined = await bob.JoinAsync(alias);

        Assert.Equal(roomId, joined.GetProperty("room_id").GetString());
        await bob.FailsAsync(Post, $"/join/{E("#nothing-here:localhost")}", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Post, $"/join/{E("!nothing-here:localhost")}", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Post, $"/join/{E("nothing")}", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Post, $"/rooms/{E("not-a-room")}/join", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task A_user_can_forget_a_room_only_after_leaving_and_then_cannot_read_it()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await bob.SendTextAsync(roomId, "before leaving");

        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/forget", new { }, HttpStatusCode.BadRequest, "M_UNKNOWN");
        await bob.LeaveAsync(roomId);
        Assert.Equal(["before leaving"], Bodies((await bob.MessagesAsync(roomId, "dir=b&filter=" + E("{\"types\":[\"m.room.message\"]}"))).GetProperty("chunk")));
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/forget", new { });

        await bob.FailsAsync(Get, $"/rooms/{E(roomId)}/messages?dir=b", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Get, $"/rooms/{E(roomId)}/state", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        var carol = await UserAsync("carol");
        await carol.FailsAsync(Post, $"/rooms/{E(roomId)}/forget", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");

        await bob.JoinAsync(roomId);
        Assert.Equal(["before leaving"], Bodies((await bob.MessagesAsync(roomId, "dir=b&filter=" + E("{\"types\":[\"m.room.message\"]}"))).GetProperty("chunk")));
    }

    [Fact]
    public async Task Members_can_be_filtered_by_membership_and_read_at_a_point_in_time()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var dave = await UserAsync("dave");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var beforeCarol = (await alice.MessagesAsync(roomId, "dir=b&limit=1")).GetProperty("start").GetString()!;
        await carol.JoinAsync(roomId);
        await carol.LeaveAsync(roomId);
        await alice.InviteAsync(roomId, dave.UserId);

        async Task<string[]> MembersAsync(string query) =>
            (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/members{query}")).GetProperty("chunk").EnumerateArray()
                .Select(m => m.GetProperty("state_key").GetString()!).Order(StringComparer.Ordinal).ToArray();

        string[] Sorted(params string[] ids) => ids.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Sorted(alice.UserId, bob.UserId, carol.UserId, dave.UserId), await MembersAsync(""));
        Assert.Equal(Sorted(alice.UserId, bob.UserId), await MembersAsync("?membership=join"));
        Assert.Equal(Sorted(alice.UserId, bob.UserId, dave.UserId), await MembersAsync("?not_membership=leave"));
        Assert.Equal(Sorted(carol.UserId, dave.UserId), await MembersAsync("?membership=invite&not_membership=join"));
        Assert.Equal(Sorted(alice.UserId, bob.UserId), await MembersAsync($"?at={beforeCarol}"));
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/members?membership=party", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"/rooms/{E(roomId)}/members?at=nonsense", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var joined = (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/joined_members")).GetProperty("joined");
        Assert.Equal(Sorted(alice.UserId, bob.UserId), joined.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        await carol.FailsAsync(Get, $"/rooms/{E(roomId)}/joined_members", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Joined_members_carry_display_names_and_avatars()
    {
        var alice = await UserAsync("alice", displayName: "Alice A.");
        var roomId = await alice.CreateRoomAsync();
        await alice.SetStateAsync(roomId, "m.room.member", new { membership = "join", displayname = "Alice A.", avatar_url = "mxc://localhost/a" }, alice.UserId);

        var joined = (await alice.OkAsync(Get, $"/rooms/{E(roomId)}/joined_members")).GetProperty("joined").GetProperty(alice.UserId);

        Assert.Equal("Alice A.", joined.GetProperty("display_name").GetString());
        Assert.Equal("mxc://localhost/a", joined.GetProperty("avatar_url").GetString());
    }

    [Fact]
    public async Task A_profile_change_resends_the_member_event_of_joined_users_only()
    {
        var alice = await UserAsync("alice", displayName: "Alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        await bob.LeaveAsync(roomId);
        var room = Server.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IRoomGrain>(roomId);
        var before = (await alice.MessagesAsync(roomId, "dir=b&limit=1")).GetProperty("start").GetString();

        await room.UpdateMemberProfileAsync(alice.UserId, "Alice Renamed", "mxc://localhost/new");
        await room.UpdateMemberProfileAsync(alice.UserId, "Alice Renamed", "mxc://localhost/new");
        await room.UpdateMemberProfileAsync(bob.UserId, "Bob Renamed", null);

        var member = await alice.GetStateEventAsync(roomId, "m.room.member", alice.UserId);
        Assert.Equal(("join", "Alice Renamed", "mxc://localhost/new"),
            (member.GetProperty("membership").GetString(), member.GetProperty("displayname").GetString(), member.GetProperty("avatar_url").GetString()));
        var newEvents = (await alice.MessagesAsync(roomId, $"dir=f&from={before}")).GetProperty("chunk");
        Assert.Equal([alice.UserId], newEvents.EnumerateArray().Select(e => e.GetProperty("state_key").GetString()));
        Assert.Equal("Alice", newEvents[0].GetProperty("unsigned").GetProperty("prev_content").GetProperty("displayname").GetString());
        Assert.Equal("leave", await MembershipAsync(alice, roomId, bob.UserId));
    }

    [Fact]
    public async Task Changing_the_display_name_through_the_profile_api_updates_the_member_event()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        await alice.OkAsync(Put, $"/profile/{E(alice.UserId)}/displayname", new { displayname = "Renamed" });

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(await alice.GetStateEventAsync(roomId, "m.room.member", alice.UserId)).TryGetProperty("displayname", out var name)
               || name.GetString() != "Renamed")
        {
            Assert.True(DateTime.UtcNow < deadline, "The member event was not updated.");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Power_levels_decide_who_may_send_state_and_messages()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);

        await bob.FailsAsync(Put, $"/rooms/{E(roomId)}/state/m.room.name/", new { name = "bob's" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.SendTextAsync(roomId, "messages are fine");
        await bob.FailsAsync(Put, $"/rooms/{E(roomId)}/state/org.example.mine/{E(bob.UserId)}", new { ok = true }, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var powerLevels = await alice.GetStateEventAsync(roomId, "m.room.power_levels");
        var content = System.Text.Json.Nodes.JsonNode.Parse(powerLevels.GetRawText())!.AsObject();
        content["users"]![bob.UserId] = 50;
        content["events_default"] = 10;
        await alice.SetStateAsync(roomId, "m.room.power_levels", content);

        await bob.SetStateAsync(roomId, "m.room.name", new { name = "bob's" });
        await bob.SetStateAsync(roomId, "org.example.mine", new { ok = true }, bob.UserId);
        await bob.FailsAsync(Put, $"/rooms/{E(roomId)}/state/org.example.mine/{E(alice.UserId)}", new { ok = false }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal("bob's", (await alice.GetStateEventAsync(roomId, "m.room.name")).GetProperty("name").GetString());
        var carol = await UserAsync("carol");
        await carol.JoinAsync(roomId);
        await carol.FailsAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/x", new { body = "no" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await bob.FailsAsync(Put, $"/rooms/{E(roomId)}/state/m.room.power_levels/", content, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Users_outside_a_room_can_neither_read_nor_write_it()
    {
        var alice = await UserAsync("alice");
        var mallory = await UserAsync("mallory");
        var roomId = await alice.CreateRoomAsync();
        var eventId = await alice.SendTextAsync(roomId, "secret");
        var unknownRoom = "!unknown-room:localhost";

        foreach (var room in new[] { roomId, unknownRoom })
        {
            await mallory.FailsAsync(Put, $"/rooms/{E(room)}/send/m.room.message/t", new { body = "x" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Put, $"/rooms/{E(room)}/state/m.room.topic/", new { topic = "x" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Get, $"/rooms/{E(room)}/state", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Get, $"/rooms/{E(room)}/state/m.room.create/", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Get, $"/rooms/{E(room)}/members", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Get, $"/rooms/{E(room)}/messages?dir=b", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Get, $"/rooms/{E(room)}/context/{E(eventId)}", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Post, $"/rooms/{E(room)}/invite", new { user_id = mallory.UserId }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Post, $"/rooms/{E(room)}/leave", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
            await mallory.FailsAsync(Get, $"/rooms/{E(room)}/event/{E(eventId)}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        }
        await mallory.FailsAsync(Post, $"/rooms/{E(unknownRoom)}/join", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }
}

public sealed class SqliteRoomMembershipTests(SqliteServerFixture fixture) : RoomMembershipTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRoomMembershipTests(PostgresServerFixture fixture) : RoomMembershipTests(fixture), IClassFixture<PostgresServerFixture>;
