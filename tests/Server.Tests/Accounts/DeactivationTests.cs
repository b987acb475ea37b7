using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteDeactivationTests(SqliteAccountsServer server) : DeactivationTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresDeactivationTests(PostgresAccountsServer server) : DeactivationTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>POST /account/deactivate, confirmed with the m.login.password stage: what is left of the account afterwards.</summary>
public abstract class DeactivationTests(AccountsServerFixture server)
{
    private const string Deactivate = $"{V3}/account/deactivate";

    private HttpClient Client => server.Client;

    private Task<SyncUser> RegisterAsync() => SyncUser.RegisterAsync(server.Server, NewUsername());

    private async Task DeactivateAsync(SyncUser user, bool? erase = null)
    {
        using var response = await Client.PostAsync(Deactivate,
            Json(new { auth = PasswordAuth(session: null, user.UserId), erase }), user.AccessToken);
        var body = await response.OkJsonAsync();
        Assert.Equal("success", body.GetProperty("id_server_unbind_result").GetString());
    }

    [Fact]
    public async Task Deactivation_asks_for_the_password_then_revokes_every_token_and_refuses_login_and_the_user_id()
    {
        var username = NewUsername();
        var user = await Client.RegisterAsync(username);
        var other = await Client.LogInAsync(username);

        using var challenge = await Client.PostAsync(Deactivate, "{}", user.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");
        using var wrong = await Client.PostAsync(Deactivate,
            Json(new { auth = PasswordAuth(session, user.UserId, "wrong") }), user.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("M_FORBIDDEN", (await wrong.ReadJsonAsync()).GetProperty("errcode").GetString());
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(user.AccessToken));

        using var response = await Client.PostAsync(Deactivate,
            Json(new { auth = PasswordAuth(session, user.UserId), id_server = "id.example.org" }), user.AccessToken);

        Assert.Equal("success", (await response.OkJsonAsync()).GetProperty("id_server_unbind_result").GetString());
        foreach (var token in new[] { user.AccessToken, other.AccessToken })
        {
            using var whoami = await Client.GetAsync($"{V3}/account/whoami", token);
            await whoami.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
        }
        using var login = await Client.PostAsync($"{V3}/login", Json(new { type = "m.login.password", user = username, password = Password }));
        await login.AssertErrorAsync(HttpStatusCode.Forbidden, "M_USER_DEACTIVATED");
        using var available = await Client.GetAsync($"{V3}/register/available?username={username}", token: null);
        await available.AssertErrorAsync(HttpStatusCode.BadRequest, "M_USER_IN_USE");
        var registration = await Client.StartRegistrationAsync();
        using var register = await Client.PostAsync($"{V3}/register",
            Json(new { username, password = Password, auth = new { type = "m.login.dummy", session = registration } }));
        await register.AssertErrorAsync(HttpStatusCode.BadRequest, "M_USER_IN_USE");
    }

    [Fact]
    public async Task A_bad_body_is_refused_and_deactivates_nothing()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var badErase = await Client.PostAsync(Deactivate,
            Json(new { auth = PasswordAuth(session: null, user.UserId), erase = "yes" }), user.AccessToken);
        await badErase.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using var notJson = await Client.PostAsync(Deactivate, "{not json", user.AccessToken);
        await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using var anonymous = await Client.PostAsync(Deactivate, Json(new { auth = PasswordAuth(session: null, user.UserId) }));
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(user.AccessToken));
        await Client.LogInAsync(user.Localpart);
    }

    [Fact]
    public async Task The_user_leaves_every_room_and_rejects_invites_as_the_other_members_see_in_their_sync()
    {
        var alice = await RegisterAsync();
        var bob = await RegisterAsync();
        var joinedRoom = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(joinedRoom);
        var invitingRoom = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        await alice.Rooms.InviteAsync(invitingRoom, bob.UserId);
        await bob.Rooms.OkAsync(HttpMethod.Put, $"/profile/{Uri.EscapeDataString(bob.UserId)}/avatar_url", new { avatar_url = "mxc://example.org/bob" });
        var since = (await alice.SyncAsync()).GetProperty("next_batch").GetString()!;

        await DeactivateAsync(bob);

        var sync = await alice.SyncSinceAsync(since);
        foreach (var roomId in new[] { joinedRoom, invitingRoom })
        {
            var leave = MemberEvents(sync, roomId, bob.UserId).Last();
            Assert.Equal("leave", leave.GetProperty("content").GetProperty("membership").GetString());
            Assert.Equal(bob.UserId, leave.GetProperty("sender").GetString());
        }
        var members = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{Uri.EscapeDataString(joinedRoom)}/joined_members");
        Assert.False(members.GetProperty("joined").TryGetProperty(bob.UserId, out _));
        var profile = await alice.Rooms.OkAsync(HttpMethod.Get, $"/profile/{Uri.EscapeDataString(bob.UserId)}");
        Assert.False(profile.TryGetProperty("displayname", out _));
        Assert.False(profile.TryGetProperty("avatar_url", out _));
    }

    [Fact]
    public async Task An_erased_users_events_come_pruned_to_members_who_joined_later_and_whole_to_those_who_were_there()
    {
        var erased = await RegisterAsync();
        var kept = await RegisterAsync();
        var witness = await RegisterAsync();
        var latecomer = await RegisterAsync();
        var roomId = await witness.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await erased.Rooms.JoinAsync(roomId);
        await kept.Rooms.JoinAsync(roomId);
        var erasedEvent = await erased.Rooms.SendTextAsync(roomId, "erase me");
        var keptEvent = await kept.Rooms.SendTextAsync(roomId, "keep me");
        await DeactivateAsync(erased, erase: true);
        await DeactivateAsync(kept, erase: false);
        await latecomer.Rooms.JoinAsync(roomId);

        foreach (var (reader, erasedBody) in new[] { (witness, (string?)"erase me"), (latecomer, null) })
        {
            var messages = await reader.Rooms.MessagesAsync(roomId, "dir=b&limit=50");
            Assert.Equal(erasedBody, Body(Find(messages.GetProperty("chunk"), erasedEvent)));
            Assert.Equal("keep me", Body(Find(messages.GetProperty("chunk"), keptEvent)));
            var erasedJoin = messages.GetProperty("chunk").EnumerateArray().Single(e =>
                e.GetProperty("type").GetString() == "m.room.member" && e.GetProperty("state_key").GetString() == erased.UserId
                && e.GetProperty("content").GetProperty("membership").GetString() == "join");
            Assert.Equal(erasedBody is not null, erasedJoin.GetProperty("content").TryGetProperty("displayname", out _));

            var sync = await reader.SyncAsync("filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":50}}}"));
            var timeline = sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events");
            Assert.Equal(erasedBody, Body(Find(timeline, erasedEvent)));
            Assert.Equal("keep me", Body(Find(timeline, keptEvent)));

            Assert.Equal(erasedBody, Body(await reader.Rooms.GetEventAsync(roomId, erasedEvent)));
            var context = await reader.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{Uri.EscapeDataString(roomId)}/context/{Uri.EscapeDataString(erasedEvent)}?limit=10");
            Assert.Equal(erasedBody, Body(context.GetProperty("event")));
            var around = await reader.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{Uri.EscapeDataString(roomId)}/context/{Uri.EscapeDataString(keptEvent)}?limit=10");
            Assert.Equal(erasedBody, Body(Find(around.GetProperty("events_before"), erasedEvent)));
        }
        var pruned = await latecomer.Rooms.GetEventAsync(roomId, erasedEvent);
        Assert.Equal("m.room.message", pruned.GetProperty("type").GetString());
        Assert.Equal(erased.UserId, pruned.GetProperty("sender").GetString());
        Assert.Empty(pruned.GetProperty("content").EnumerateObject());
    }

    [Fact]
    public async Task A_room_joined_since_the_last_sync_shows_the_erased_users_earlier_events_pruned()
    {
        var erased = await RegisterAsync();
        var latecomer = await RegisterAsync();
        var roomId = await erased.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        var since = (await latecomer.SyncAsync()).GetProperty("next_batch").GetString()!;
        var erasedEvent = await erased.Rooms.SendTextAsync(roomId, "erase me");
        await DeactivateAsync(erased, erase: true);
        await latecomer.Rooms.JoinAsync(roomId);

        var sync = await latecomer.SyncSinceAsync(since, "filter=" + Uri.EscapeDataString("{\"room\":{\"timeline\":{\"limit\":50}}}"));

        var timeline = sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events");
        var pruned = Find(timeline, erasedEvent);
        Assert.Equal("m.room.message", pruned.GetProperty("type").GetString());
        Assert.Empty(pruned.GetProperty("content").EnumerateObject());
    }

    private static JsonElement Find(JsonElement events, string eventId) =>
        events.EnumerateArray().Single(e => e.GetProperty("event_id").GetString() == eventId);

    private static string? Body(JsonElement e) =>
        e.GetProperty("content").TryGetProperty("body", out var body) ? body.GetString() : null;

    private static IEnumerable<JsonElement> MemberEvents(JsonElement sync, string roomId, string userId) =>
        sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.member" && e.GetProperty("state_key").GetString() == userId);
}
