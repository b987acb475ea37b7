using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteDeviceTests(SqliteAccountsServer server) : DeviceTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresDeviceTests(PostgresAccountsServer server) : DeviceTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>/devices and /delete_devices; deleting needs the m.login.password stage.</summary>
public abstract class DeviceTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task Devices_are_listed_read_and_renamed()
    {
        var user = await Client.RegisterAsync(NewUsername(), deviceId: "ALPHA");
        await Client.LogInAsync(user.Localpart, deviceId: "BETA");

        using var rename = await Client.PutAsync($"{V3}/devices/BETA", Json(new { display_name = "Work laptop" }), user.AccessToken);
        await rename.OkJsonAsync();
        using var list = await Client.GetAsync($"{V3}/devices", user.AccessToken);
        using var one = await Client.GetAsync($"{V3}/devices/BETA", user.AccessToken);

        var devices = (await list.OkJsonAsync()).GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(["ALPHA", "BETA"], devices.Select(d => d.GetProperty("device_id").GetString()));
        Assert.All(devices, d => Assert.Equal("127.0.0.1", d.GetProperty("last_seen_ip").GetString()));
        Assert.All(devices, d => Assert.True(d.GetProperty("last_seen_ts").GetInt64() > 0));
        var beta = await one.OkJsonAsync();
        Assert.Equal("Work laptop", beta.GetProperty("display_name").GetString());
    }

    [Fact]
    public async Task Unknown_devices_and_devices_of_other_users_are_not_found()
    {
        var other = await Client.RegisterAsync(NewUsername(), deviceId: "OTHERS");
        var user = await Client.RegisterAsync(NewUsername());

        using var get = await Client.GetAsync($"{V3}/devices/OTHERS", user.AccessToken);
        using var put = await Client.PutAsync($"{V3}/devices/OTHERS", Json(new { display_name = "mine now" }), user.AccessToken);
        using var putEmpty = await Client.PutAsync($"{V3}/devices/NOPE", "{}", user.AccessToken);

        await get.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        await put.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        await putEmpty.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        using var theirs = await Client.GetAsync($"{V3}/devices/OTHERS", other.AccessToken);
        Assert.False((await theirs.OkJsonAsync()).TryGetProperty("display_name", out _));
    }

    [Theory]
    [InlineData("""{"display_name":""", "M_NOT_JSON")]
    [InlineData("""{"display_name":5}""", "M_BAD_JSON")]
    [InlineData("""["x"]""", "M_BAD_JSON")]
    public async Task Malformed_renames_are_refused(string body, string errcode)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PutAsync($"{V3}/devices/{user.DeviceId}", body, user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
    }

    [Fact]
    public async Task A_device_name_over_the_limit_is_refused()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PutAsync($"{V3}/devices/{user.DeviceId}", Json(new { display_name = new string('n', 101) }), user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Deleting_a_device_asks_for_the_password_then_revokes_its_token()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var phone = await Client.LogInAsync(user.Localpart, deviceId: "PHONE");

        using var challenge = await Client.DeleteAsync($"{V3}/devices/PHONE", body: null, user.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(phone.AccessToken));
        using var response = await Client.DeleteAsync($"{V3}/devices/PHONE", Json(new { auth = PasswordAuth(session, user.UserId) }), user.AccessToken);

        await response.OkJsonAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(phone.AccessToken));
        using var gone = await Client.GetAsync($"{V3}/devices/PHONE", user.AccessToken);
        await gone.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Deleting_a_device_that_does_not_exist_succeeds()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.DeleteAsync($"{V3}/devices/NEVER", Json(new { auth = PasswordAuth(null, user.UserId) }), user.AccessToken);

        await response.OkJsonAsync();
    }

    [Fact]
    public async Task A_wrong_password_deletes_nothing()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var phone = await Client.LogInAsync(user.Localpart, deviceId: "PHONE");

        using var response = await Client.DeleteAsync($"{V3}/devices/PHONE", Json(new { auth = PasswordAuth(null, user.UserId, "guess") }), user.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("M_FORBIDDEN", (await response.ReadJsonAsync()).GetProperty("errcode").GetString());
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(phone.AccessToken));
    }

    [Fact]
    public async Task A_password_stage_naming_another_user_is_403_and_the_session_then_works_for_the_right_user()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var other = await Client.RegisterAsync(NewUsername());
        var phone = await Client.LogInAsync(user.Localpart, deviceId: "PHONE");
        using var challenge = await Client.DeleteAsync($"{V3}/devices/PHONE", body: null, user.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");

        foreach (var named in new[] { other.UserId, other.Localpart })
        {
            using var refused = await Client.DeleteAsync($"{V3}/devices/PHONE", Json(new { auth = PasswordAuth(session, named) }), user.AccessToken);
            await refused.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        }
        using (var bulk = await Client.PostAsync($"{V3}/delete_devices",
                   Json(new { devices = new[] { "PHONE" }, auth = PasswordAuth(null, other.UserId) }), user.AccessToken))
            await bulk.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(phone.AccessToken));

        // A wrong password of the right user is a failed stage: 401 with the flows, the session and M_FORBIDDEN.
        using (var wrong = await Client.DeleteAsync($"{V3}/devices/PHONE", Json(new { auth = PasswordAuth(session, user.UserId, "guess") }), user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            var body = await wrong.ReadJsonAsync();
            Assert.Equal("M_FORBIDDEN", body.GetProperty("errcode").GetString());
            Assert.Equal(session, body.GetProperty("session").GetString());
            Assert.Equal("m.login.password", body.GetProperty("flows")[0].GetProperty("stages")[0].GetString());
        }

        using var accepted = await Client.DeleteAsync($"{V3}/devices/PHONE", Json(new { auth = PasswordAuth(session, user.UserId) }), user.AccessToken);
        await accepted.OkJsonAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(phone.AccessToken));
    }

    [Fact]
    public async Task A_session_authorises_only_the_operation_that_started_it()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var phone = await Client.LogInAsync(user.Localpart, deviceId: "PHONE");
        using var challenge = await Client.DeleteAsync($"{V3}/devices/SOMETHING", "{}", user.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");

        using var response = await Client.DeleteAsync($"{V3}/devices/PHONE", Json(new { auth = PasswordAuth(session, user.UserId) }), user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(phone.AccessToken));
    }

    [Fact]
    public async Task Bulk_deletion_revokes_the_listed_devices_only()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var a = await Client.LogInAsync(user.Localpart, deviceId: "A");
        var b = await Client.LogInAsync(user.Localpart, deviceId: "B");
        var c = await Client.LogInAsync(user.Localpart, deviceId: "C");
        // Used once, so the tokens are cached where they are checked.
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(a.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(b.AccessToken));

        using var challenge = await Client.PostAsync($"{V3}/delete_devices", Json(new { devices = new[] { "A", "B" } }), user.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");
        using var response = await Client.PostAsync($"{V3}/delete_devices",
            Json(new { devices = new[] { "A", "B", "UNKNOWN" }, auth = PasswordAuth(session, user.UserId) }), user.AccessToken);

        await response.OkJsonAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(a.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(b.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(c.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(user.AccessToken));
    }

    [Theory]
    [InlineData("{}", "M_BAD_JSON")]
    [InlineData("""{"devices":"A"}""", "M_BAD_JSON")]
    [InlineData("""{"devices":[1]}""", "M_BAD_JSON")]
    [InlineData("""{"devices":["A"],"auth":[]}""", "M_BAD_JSON")]
    [InlineData("""{"devices":""", "M_NOT_JSON")]
    public async Task Malformed_bulk_deletions_are_refused(string body, string errcode)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/delete_devices", body, user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
    }

    [Fact]
    public async Task Device_endpoints_need_a_token()
    {
        using var list = await Client.GetAsync($"{V3}/devices", token: null);
        using var delete = await Client.DeleteAsync($"{V3}/devices/X", "{}", token: null);
        using var bulk = await Client.PostAsync($"{V3}/delete_devices", """{"devices":[]}""", token: "mat_bogus");

        await list.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await delete.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await bulk.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }
}
