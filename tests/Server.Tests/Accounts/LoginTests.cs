using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteLoginTests(SqliteAccountsServer server) : LoginTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresLoginTests(PostgresAccountsServer server) : LoginTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>GET/POST /login, /logout, /logout/all and /account/whoami.</summary>
public abstract class LoginTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task Login_flows_offer_the_password()
    {
        using var response = await Client.GetAsync($"{V3}/login", token: null);

        var flow = Assert.Single((await response.OkJsonAsync()).GetProperty("flows").EnumerateArray());
        Assert.Equal("m.login.password", flow.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Login_with_a_localpart_gives_a_new_device_and_token()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/login", Json(new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user = user.Localpart },
            password = Password,
            initial_device_display_name = "Laptop",
        }));

        var body = await response.OkJsonAsync();
        Assert.Equal(user.UserId, body.GetProperty("user_id").GetString());
        Assert.Equal("localhost", body.GetProperty("home_server").GetString());
        Assert.StartsWith("http://127.0.0.1:", body.GetProperty("well_known").GetProperty("m.homeserver").GetProperty("base_url").GetString());
        var deviceId = body.GetProperty("device_id").GetString()!;
        Assert.NotEqual(user.DeviceId, deviceId);
        var token = body.GetProperty("access_token").GetString()!;
        Assert.NotEqual(user.AccessToken, token);
        using var device = await Client.GetAsync($"{V3}/devices/{deviceId}", token);
        Assert.Equal("Laptop", (await device.OkJsonAsync()).GetProperty("display_name").GetString());
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(user.AccessToken));
    }

    [Fact]
    public async Task Login_accepts_the_full_user_id_any_case_and_the_deprecated_user_field()
    {
        var user = await Client.RegisterAsync(NewUsername());

        var byUserId = await Client.LogInAsync(user.UserId);
        var byUpperCase = await Client.LogInAsync(user.Localpart.ToUpperInvariant());
        using var legacy = await Client.PostAsync($"{V3}/login", Json(new { type = "m.login.password", user = user.Localpart, password = Password }));

        Assert.Equal(user.UserId, byUserId.UserId);
        Assert.Equal(user.UserId, byUpperCase.UserId);
        Assert.Equal(user.UserId, (await legacy.OkJsonAsync()).GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task Logging_in_again_on_a_device_replaces_its_token_and_keeps_its_name()
    {
        var username = NewUsername();
        var first = await Client.RegisterAsync(username, deviceId: "KITCHEN");
        using var rename = await Client.PutAsync($"{V3}/devices/KITCHEN", Json(new { display_name = "Kitchen tablet" }), first.AccessToken);
        await rename.OkJsonAsync();

        var second = await Client.LogInAsync(username, deviceId: "KITCHEN");

        Assert.Equal("KITCHEN", second.DeviceId);
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(first.AccessToken));
        using var device = await Client.GetAsync($"{V3}/devices/KITCHEN", second.AccessToken);
        Assert.Equal("Kitchen tablet", (await device.OkJsonAsync()).GetProperty("display_name").GetString());
    }

    [Theory]
    [InlineData("wrong password")]
    [InlineData("")]
    public async Task A_wrong_password_is_forbidden(string password)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/login", Json(new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user = user.Localpart },
            password,
        }));

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Theory]
    [InlineData("nobody-here")]
    [InlineData("@nobody-here:localhost")]
    [InlineData("@someone:elsewhere.example")]
    [InlineData("@:::")]
    public async Task Unknown_and_remote_users_are_forbidden_like_a_wrong_password(string user)
    {
        using var response = await Client.PostAsync($"{V3}/login", Json(new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user },
            password = Password,
        }));

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Theory]
    [InlineData("""{"type":"m.login.token","token":"abc"}""", HttpStatusCode.BadRequest, "M_UNKNOWN")]
    [InlineData("""{"type":"m.login.password","identifier":{"type":"m.id.thirdparty","medium":"email","address":"a@b.c"},"password":"x"}""", HttpStatusCode.BadRequest, "M_UNKNOWN")]
    [InlineData("""{"type":"m.login.password","password":"x"}""", HttpStatusCode.BadRequest, "M_MISSING_PARAM")]
    [InlineData("""{"type":"m.login.password","user":"someone"}""", HttpStatusCode.BadRequest, "M_MISSING_PARAM")]
    [InlineData("""{"identifier":{"type":"m.id.user","user":"a"},"password":"x"}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("""{"type":"m.login.password","identifier":{"user":"a"},"password":"x"}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("""{"type":"m.login.password","user":"a","password":7}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("""{"type":"m.login.password",""", HttpStatusCode.BadRequest, "M_NOT_JSON")]
    public async Task Malformed_logins_are_refused(string body, HttpStatusCode status, string errcode)
    {
        using var response = await Client.PostAsync($"{V3}/login", body);

        await response.AssertErrorAsync(status, errcode);
    }

    [Fact]
    public async Task Whoami_names_the_user_and_device_of_the_token()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.GetAsync($"{V3}/account/whoami", user.AccessToken);

        var body = await response.OkJsonAsync();
        Assert.Equal(user.UserId, body.GetProperty("user_id").GetString());
        Assert.Equal(user.DeviceId, body.GetProperty("device_id").GetString());
        Assert.False(body.GetProperty("is_guest").GetBoolean());
    }

    [Theory]
    [InlineData(null, "M_MISSING_TOKEN")]
    [InlineData("not-a-token", "M_UNKNOWN_TOKEN")]
    [InlineData("mat_QGFsaWNlOmxvY2FsaG9zdA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "M_UNKNOWN_TOKEN")]
    public async Task Requests_without_a_valid_token_are_unauthorized(string? token, string errcode)
    {
        foreach (var (method, path) in new[] { (HttpMethod.Get, "account/whoami"), (HttpMethod.Post, "logout"), (HttpMethod.Post, "logout/all"), (HttpMethod.Get, "devices") })
        {
            using var response = await Client.SendAsync(method, $"{V3}/{path}", method == HttpMethod.Post ? "{}" : null, token);
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, errcode);
        }
    }

    [Fact]
    public async Task Logout_revokes_the_token_and_deletes_its_device()
    {
        var username = NewUsername();
        var first = await Client.RegisterAsync(username);
        var second = await Client.LogInAsync(username);

        using var response = await Client.PostAsync($"{V3}/logout", null, second.AccessToken);

        await response.OkJsonAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(second.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(first.AccessToken));
        using var devices = await Client.GetAsync($"{V3}/devices", first.AccessToken);
        var ids = (await devices.OkJsonAsync()).GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("device_id").GetString());
        Assert.Equal([first.DeviceId], ids);
    }

    [Fact]
    public async Task Logout_all_revokes_every_token_of_the_user_only()
    {
        var username = NewUsername();
        var first = await Client.RegisterAsync(username);
        var second = await Client.LogInAsync(username);
        var other = await Client.RegisterAsync(NewUsername());
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(second.AccessToken));

        using var response = await Client.PostAsync($"{V3}/logout/all", "{}", first.AccessToken);

        await response.OkJsonAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(first.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(second.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(other.AccessToken));
        var again = await Client.LogInAsync(username);
        using var devices = await Client.GetAsync($"{V3}/devices", again.AccessToken);
        Assert.Single((await devices.OkJsonAsync()).GetProperty("devices").EnumerateArray());
    }
}
