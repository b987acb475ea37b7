using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteAccountModerationTests(SqliteAccountsServer server) : AccountModerationTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresAccountModerationTests(PostgresAccountsServer server) : AccountModerationTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>Server admins lock and suspend accounts (<c>/_matrix/client/v1/admin/lock|suspend/{userId}</c>) and what that does.</summary>
public abstract class AccountModerationTests(AccountsServerFixture server)
{
    private const string V1 = "/_matrix/client/v1";

    private HttpClient Client => server.Client;

    private static string Lock(string userId) => $"{V1}/admin/lock/{Uri.EscapeDataString(userId)}";

    private static string Suspend(string userId) => $"{V1}/admin/suspend/{Uri.EscapeDataString(userId)}";

    private async Task<string> ModerationAsync(HttpMethod method, string path, string token, string? body = null)
    {
        using var response = await Client.SendAsync(method, path, body, token);
        return (await response.OkJsonAsync()).GetRawText();
    }

    private async Task FailsAsync(HttpMethod method, string path, string? token, string? body, HttpStatusCode status, string errcode)
    {
        using var response = await Client.SendAsync(method, path, body, token);
        await response.AssertErrorAsync(status, errcode);
    }

    [Fact]
    public async Task A_locked_account_can_only_log_out_until_unlocked()
    {
        var admin = await TestUsers.CreateAsync(server.Server, "admin", isAdmin: true);
        var user = await Client.RegisterAsync(NewUsername());
        var second = await Client.RegisterAsync(NewUsername());
        Assert.Equal("""{"locked":false}""", await ModerationAsync(HttpMethod.Get, Lock(user.UserId), admin.AccessToken));

        Assert.Equal("""{"locked":true}""", await ModerationAsync(HttpMethod.Put, Lock(user.UserId), admin.AccessToken, """{"locked":true}"""));
        Assert.Equal("""{"locked":true}""", await ModerationAsync(HttpMethod.Get, Lock(user.UserId), admin.AccessToken));
        using (var whoami = await Client.GetAsync($"{V3}/account/whoami", user.AccessToken))
        {
            await whoami.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_USER_LOCKED");
            Assert.True((await whoami.ReadJsonAsync()).GetProperty("soft_logout").GetBoolean());
        }
        await FailsAsync(HttpMethod.Get, "/_matrix/client/r0/sync?timeout=0", user.AccessToken, null, HttpStatusCode.Unauthorized, "M_USER_LOCKED");
        // Others are not affected.
        using (var other = await Client.GetAsync($"{V3}/account/whoami", second.AccessToken)) await other.OkJsonAsync();

        Assert.Equal("""{"locked":false}""", await ModerationAsync(HttpMethod.Put, Lock(user.UserId), admin.AccessToken, """{"locked":false}"""));
        using (var again = await Client.GetAsync($"{V3}/account/whoami", user.AccessToken)) await again.OkJsonAsync();

        await ModerationAsync(HttpMethod.Put, Lock(user.UserId), admin.AccessToken, """{"locked":true}""");
        using (var logout = await Client.PostAsync($"{V3}/logout", "{}", user.AccessToken)) await logout.OkJsonAsync();
        await FailsAsync(HttpMethod.Get, $"{V3}/account/whoami", user.AccessToken, null, HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }

    [Fact]
    public async Task A_suspended_account_reads_but_does_not_act()
    {
        var admin = await TestUsers.CreateAsync(server.Server, "admin", isAdmin: true);
        var user = await Client.RegisterAsync(NewUsername());
        var friend = await Client.RegisterAsync(NewUsername());
        using var created = await Client.PostAsync($"{V3}/createRoom", "{}", user.AccessToken);
        var roomId = Uri.EscapeDataString((await created.OkJsonAsync()).GetProperty("room_id").GetString()!);

        Assert.Equal("""{"suspended":true}""", await ModerationAsync(HttpMethod.Put, Suspend(user.UserId), admin.AccessToken, """{"suspended":true}"""));
        Assert.Equal("""{"suspended":true}""", await ModerationAsync(HttpMethod.Get, Suspend(user.UserId), admin.AccessToken));

        await FailsAsync(HttpMethod.Put, $"{V3}/rooms/{roomId}/send/m.room.message/t1", user.AccessToken,
            Json(new { msgtype = "m.text", body = "no" }), HttpStatusCode.Forbidden, "M_USER_SUSPENDED");
        await FailsAsync(HttpMethod.Put, $"/_matrix/client/r0/rooms/{roomId}/send/m.room.message/t2", user.AccessToken,
            Json(new { msgtype = "m.text", body = "no" }), HttpStatusCode.Forbidden, "M_USER_SUSPENDED");
        await FailsAsync(HttpMethod.Put, $"{V3}/rooms/{roomId}/state/m.room.topic/", user.AccessToken, Json(new { topic = "t" }), HttpStatusCode.Forbidden, "M_USER_SUSPENDED");
        await FailsAsync(HttpMethod.Post, $"{V3}/createRoom", user.AccessToken, "{}", HttpStatusCode.Forbidden, "M_USER_SUSPENDED");
        await FailsAsync(HttpMethod.Post, $"{V3}/rooms/{roomId}/invite", user.AccessToken, Json(new { user_id = friend.UserId }), HttpStatusCode.Forbidden, "M_USER_SUSPENDED");
        await FailsAsync(HttpMethod.Put, $"{V3}/profile/{Uri.EscapeDataString(user.UserId)}/displayname", user.AccessToken,
            Json(new { displayname = "x" }), HttpStatusCode.Forbidden, "M_USER_SUSPENDED");
        // Reading, and what concerns only itself, still work.
        using (var messages = await Client.GetAsync($"{V3}/rooms/{roomId}/messages?dir=b", user.AccessToken)) await messages.OkJsonAsync();
        using (var sync = await Client.GetAsync($"{V3}/sync?timeout=0", user.AccessToken)) await sync.OkJsonAsync();
        using (var leave = await Client.PostAsync($"{V3}/rooms/{roomId}/leave", "{}", user.AccessToken)) await leave.OkJsonAsync();

        await ModerationAsync(HttpMethod.Put, Suspend(user.UserId), admin.AccessToken, """{"suspended":false}""");
        using var createdAgain = await Client.PostAsync($"{V3}/createRoom", "{}", user.AccessToken);
        await createdAgain.OkJsonAsync();
    }

    [Fact]
    public async Task Only_admins_moderate_and_never_admins()
    {
        var admin = await TestUsers.CreateAsync(server.Server, "admin", isAdmin: true);
        var otherAdmin = await TestUsers.CreateAsync(server.Server, "admin2", isAdmin: true);
        var user = await Client.RegisterAsync(NewUsername());
        var other = await Client.RegisterAsync(NewUsername());

        // A non-admin is refused before any look-up: an unknown user gives the same answer.
        await FailsAsync(HttpMethod.Get, Lock(other.UserId), user.AccessToken, null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(HttpMethod.Get, Lock("@nobody-at-all:localhost"), user.AccessToken, null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(HttpMethod.Put, Suspend(other.UserId), user.AccessToken, """{"suspended":true}""", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(HttpMethod.Put, Suspend(other.UserId), null, """{"suspended":true}""", HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        await FailsAsync(HttpMethod.Put, Lock(otherAdmin.UserId), admin.AccessToken, """{"locked":true}""", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(HttpMethod.Put, Lock(admin.UserId), admin.AccessToken, """{"locked":true}""", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(HttpMethod.Get, Suspend("@nobody-at-all:localhost"), admin.AccessToken, null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await FailsAsync(HttpMethod.Get, Suspend("@someone:elsewhere.example"), admin.AccessToken, null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await FailsAsync(HttpMethod.Put, Lock(other.UserId), admin.AccessToken, """{"locked":"yes"}""", HttpStatusCode.BadRequest, "M_BAD_JSON");
        await FailsAsync(HttpMethod.Put, Lock(other.UserId), admin.AccessToken, "{}", HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        Assert.Equal("""{"locked":false}""", await ModerationAsync(HttpMethod.Get, Lock(other.UserId), admin.AccessToken));
        // Admins see the capability; others do not.
        using (var adminCapabilities = await Client.GetAsync($"{V3}/capabilities", admin.AccessToken))
        {
            var moderation = (await adminCapabilities.OkJsonAsync()).GetProperty("capabilities").GetProperty("m.account_moderation");
            Assert.Equal("""{"lock":true,"suspend":true}""", moderation.GetRawText());
        }
        using (var userCapabilities = await Client.GetAsync($"{V3}/capabilities", user.AccessToken))
            Assert.False((await userCapabilities.OkJsonAsync()).GetProperty("capabilities").TryGetProperty("m.account_moderation", out _));
        // v1 only: not under r0 or v3.
        await FailsAsync(HttpMethod.Get, $"/_matrix/client/v3/admin/lock/{Uri.EscapeDataString(other.UserId)}", admin.AccessToken, null, HttpStatusCode.NotFound, "M_UNRECOGNIZED");
    }
}
