using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Guests;

public sealed class SqliteGuestAccessTests(SqliteGuestServerFixture fixture) : GuestAccessTests(fixture), IClassFixture<SqliteGuestServerFixture>;

public sealed class PostgresGuestAccessTests(PostgresGuestServerFixture fixture) : GuestAccessTests(fixture), IClassFixture<PostgresGuestServerFixture>;

/// <summary>The Guest Access module over HTTP: registration, the endpoints guests may call, joining, upgrading, revoking.</summary>
public abstract class GuestAccessTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private HttpClient Http => Server.Client;

    private async Task<RoomsClient> GuestAsync()
    {
        using var response = await Http.PostAsync($"{V3}/register?kind=guest", "{}");
        var body = await response.OkJsonAsync();
        var user = new TestUser(
            body.GetProperty("user_id").GetString()!, body.GetProperty("device_id").GetString()!, body.GetProperty("access_token").GetString()!);
        return new RoomsClient(Http, user);
    }

    private async Task<string> RoomGuestsCanJoinAsync(RoomsClient owner)
    {
        var roomId = await owner.CreateRoomAsync(new { preset = "public_chat" });
        await owner.SetStateAsync(roomId, "m.room.guest_access", new { guest_access = "can_join" });
        return roomId;
    }

    [Fact]
    public async Task Guest_registration_needs_no_authentication_and_gives_a_numeric_user_id_a_token_and_a_device()
    {
        using var response = await Http.PostAsync($"{V3}/register?kind=guest", Json(new { initial_device_display_name = "Lurker" }));

        var body = await response.OkJsonAsync();
        var userId = body.GetProperty("user_id").GetString()!;
        Assert.Matches(@"^@[1-9][0-9]*:localhost$", userId);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("device_id").GetString()));
        var guest = new RoomsClient(Http, new TestUser(userId, body.GetProperty("device_id").GetString()!, body.GetProperty("access_token").GetString()!));
        var whoami = await guest.OkAsync(Get, "/account/whoami");
        Assert.Equal(userId, whoami.GetProperty("user_id").GetString());
        Assert.True(whoami.GetProperty("is_guest").GetBoolean());
        var devices = await guest.OkAsync(Get, "/devices");
        Assert.Equal("Lurker", Assert.Single(devices.GetProperty("devices").EnumerateArray()).GetProperty("display_name").GetString());

        var second = await GuestAsync();
        Assert.NotEqual(userId, second.UserId);
    }

    [Fact]
    public async Task A_full_account_is_not_a_guest_and_may_not_take_a_numeric_user_id()
    {
        var alice = await UserAsync("alice");
        Assert.False((await alice.OkAsync(Get, "/account/whoami")).GetProperty("is_guest").GetBoolean());

        using var available = await Http.GetAsync($"{V3}/register/available?username=12345", token: null);
        await available.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_USERNAME");
        var session = await Http.StartRegistrationAsync("m.login.dummy");
        using var register = await Http.PostAsync($"{V3}/register",
            Json(new { username = "424242", password = Password, auth = new { type = "m.login.dummy", session } }));
        await register.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_USERNAME");
    }

    [Fact]
    public async Task Guests_may_call_only_the_endpoints_the_spec_lists_for_them()
    {
        var guest = await GuestAsync();

        await guest.FailsAsync(Post, "/createRoom", new { }, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        await guest.FailsAsync(Get, "/joined_rooms", null, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        await guest.FailsAsync(Post, "/account/password", new { new_password = Password }, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        await guest.FailsAsync(Post, "/account/deactivate", new { }, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        await guest.FailsAsync(Post, "/delete_devices", new { devices = new[] { guest.User.DeviceId } }, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        await guest.FailsAsync(Put, $"/profile/{E(guest.UserId)}/avatar_url", new { avatar_url = "mxc://x/y" }, HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
        // Refused requests change nothing: the guest still has its one device and no room.
        Assert.Single((await guest.OkAsync(Get, "/devices")).GetProperty("devices").EnumerateArray());

        await guest.OkAsync(Get, "/sync?timeout=0");
        await guest.OkAsync(Put, $"/profile/{E(guest.UserId)}/displayname", new { displayname = "Visitor" });
        await guest.OkAsync(Put, $"/devices/{E(guest.User.DeviceId)}", new { display_name = "Browser" });
        await guest.OkAsync(Post, $"/user/{E(guest.UserId)}/filter", new { room = new { timeline = new { limit = 5 } } });
        await guest.OkAsync(Get, "/capabilities");
        await guest.OkAsync(Get, "/pushrules/");
        await guest.OkAsync(Put, $"/presence/{E(guest.UserId)}/status", new { presence = "unavailable", status_msg = "looking around" });
        Assert.Equal("unavailable", (await guest.OkAsync(Get, $"/presence/{E(guest.UserId)}/status")).GetProperty("presence").GetString());
        Assert.Equal("Visitor", (await guest.OkAsync(Get, $"/profile/{E(guest.UserId)}/displayname")).GetProperty("displayname").GetString());
    }

    [Fact]
    public async Task A_guest_joins_only_a_room_whose_guest_access_is_can_join_and_then_sends_and_syncs()
    {
        var alice = await UserAsync("alice");
        var closed = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var forbidden = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await alice.SetStateAsync(forbidden, "m.room.guest_access", new { guest_access = "forbidden" });
        var open = await RoomGuestsCanJoinAsync(alice);
        var guest = await GuestAsync();

        await guest.FailsAsync(Post, $"/rooms/{E(closed)}/join", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await guest.FailsAsync(Post, $"/join/{E(forbidden)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Null(await MembershipAsync(alice, closed, guest.UserId));

        await guest.OkAsync(Post, $"/rooms/{E(open)}/join", new { });
        var eventId = await guest.SendTextAsync(open, "hello as a guest");

        var sync = await guest.OkAsync(Get, "/sync?timeout=0");
        var timeline = sync.GetProperty("rooms").GetProperty("join").GetProperty(open).GetProperty("timeline").GetProperty("events");
        Assert.Contains(eventId, EventIds(timeline));
        var seen = await alice.GetEventAsync(open, eventId);
        Assert.Equal(guest.UserId, seen.GetProperty("sender").GetString());
        await guest.OkAsync(Post, $"/rooms/{E(open)}/leave", new { });
        Assert.Equal("leave", await MembershipAsync(alice, open, guest.UserId));
    }

    [Fact]
    public async Task A_guest_joins_a_can_join_room_by_its_alias()
    {
        var alice = await UserAsync("alice");
        var alias = $"#guests-{Guid.NewGuid():N}:localhost";
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_alias_name = alias[1..alias.IndexOf(':')] });
        await alice.SetStateAsync(roomId, "m.room.guest_access", new { guest_access = "can_join" });
        var guest = await GuestAsync();

        var joined = await guest.JoinAsync(alias);

        Assert.Equal(roomId, joined.GetProperty("room_id").GetString());
        Assert.Equal("join", await MembershipAsync(alice, roomId, guest.UserId));
    }

    [Fact]
    public async Task Revoking_guest_access_makes_every_guest_in_the_room_leave_but_not_full_members()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await RoomGuestsCanJoinAsync(alice);
        var guests = new[] { await GuestAsync(), await GuestAsync() };
        foreach (var guest in guests) await guest.OkAsync(Post, $"/rooms/{E(roomId)}/join", new { });
        await bob.JoinAsync(roomId);

        await alice.SetStateAsync(roomId, "m.room.guest_access", new { guest_access = "forbidden" });

        foreach (var guest in guests)
        {
            var member = await WaitForMemberAsync(alice, roomId, guest.UserId, "leave");
            Assert.Equal(guest.UserId, member.GetProperty("sender").GetString());
            await guest.FailsAsync(Post, $"/rooms/{E(roomId)}/join", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        }
        Assert.Equal("join", await MembershipAsync(alice, roomId, bob.UserId));
        Assert.Equal("join", await MembershipAsync(alice, roomId, alice.UserId));
    }

    [Fact]
    public async Task Other_state_changes_leave_guests_in_the_room()
    {
        var alice = await UserAsync("alice");
        var roomId = await RoomGuestsCanJoinAsync(alice);
        var guest = await GuestAsync();
        await guest.OkAsync(Post, $"/rooms/{E(roomId)}/join", new { });

        await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "still open" });
        await alice.SetStateAsync(roomId, "m.room.guest_access", new { guest_access = "can_join" });
        await alice.SendTextAsync(roomId, "after");

        await Task.Delay(300);
        Assert.Equal("join", await MembershipAsync(alice, roomId, guest.UserId));
    }

    [Fact]
    public async Task A_guest_upgrades_to_a_full_account_with_the_same_user_id_and_keeps_its_rooms()
    {
        var alice = await UserAsync("alice");
        var roomId = await RoomGuestsCanJoinAsync(alice);
        var guest = await GuestAsync();
        await guest.OkAsync(Post, $"/rooms/{E(roomId)}/join", new { });
        var localpart = guest.UserId[1..guest.UserId.IndexOf(':')];

        var session = await Http.StartRegistrationAsync("m.login.dummy");
        using var response = await Http.PostAsync($"{V3}/register", Json(new
        {
            username = localpart,
            password = Password,
            guest_access_token = guest.User.AccessToken,
            device_id = "UPGRADED",
            auth = new { type = "m.login.dummy", session },
        }));

        var body = await response.OkJsonAsync();
        Assert.Equal(guest.UserId, body.GetProperty("user_id").GetString());
        Assert.Equal("UPGRADED", body.GetProperty("device_id").GetString());
        var upgraded = new RoomsClient(Http, new TestUser(guest.UserId, "UPGRADED", body.GetProperty("access_token").GetString()!));
        Assert.False((await upgraded.OkAsync(Get, "/account/whoami")).GetProperty("is_guest").GetBoolean());
        Assert.Contains(roomId, await JoinedRoomsAsync(upgraded));
        // The guest's own token now belongs to a full account too, and the password logs in.
        Assert.False((await guest.OkAsync(Get, "/account/whoami")).GetProperty("is_guest").GetBoolean());
        await guest.CreateRoomAsync();
        await Http.LogInAsync(localpart);
        // Revoking guest access no longer concerns the upgraded user.
        await alice.SetStateAsync(roomId, "m.room.guest_access", new { guest_access = "forbidden" });
        await Task.Delay(300);
        Assert.Equal("join", await MembershipAsync(alice, roomId, guest.UserId));
    }

    [Fact]
    public async Task An_upgrade_needs_the_guests_own_localpart_and_a_guest_token()
    {
        var guest = await GuestAsync();
        var other = await GuestAsync();
        var alice = await UserAsync("alice");
        var localpart = guest.UserId[1..guest.UserId.IndexOf(':')];

        async Task RegisterFailsAsync(object body, HttpStatusCode status, string errcode)
        {
            using var response = await Http.PostAsync($"{V3}/register", JsonSerializer.Serialize(body));
            await response.AssertErrorAsync(status, errcode);
        }

        var auth = new { type = "m.login.dummy", session = await Http.StartRegistrationAsync("m.login.dummy") };
        await RegisterFailsAsync(new { username = other.UserId[1..other.UserId.IndexOf(':')], password = Password, guest_access_token = guest.User.AccessToken, auth },
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await RegisterFailsAsync(new { username = alice.UserId[1..alice.UserId.IndexOf(':')], password = Password, guest_access_token = alice.User.AccessToken, auth },
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await RegisterFailsAsync(new { username = localpart, password = Password, guest_access_token = "mat_not_a_token", auth },
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await RegisterFailsAsync(new { password = Password, guest_access_token = guest.User.AccessToken, auth },
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");

        // Nothing changed: both are still guests.
        Assert.True((await guest.OkAsync(Get, "/account/whoami")).GetProperty("is_guest").GetBoolean());
        Assert.True((await other.OkAsync(Get, "/account/whoami")).GetProperty("is_guest").GetBoolean());
    }

    private static async Task<JsonElement> WaitForMemberAsync(RoomsClient reader, string roomId, string userId, string membership)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var member = await reader.OkAsync(Get, $"/rooms/{E(roomId)}/state/m.room.member/{E(userId)}?format=event");
            if (member.TryGetProperty("content", out var content) && content.GetProperty("membership").GetString() == membership) return member;
            Assert.True(DateTime.UtcNow < deadline, $"{userId} is still {member}");
            await Task.Delay(50);
        }
    }
}
