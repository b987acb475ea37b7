using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqlitePasswordTests(SqliteAccountsServer server) : PasswordTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresPasswordTests(PostgresAccountsServer server) : PasswordTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>POST /account/password, confirmed with the m.login.password stage.</summary>
public abstract class PasswordTests(AccountsServerFixture server)
{
    private const string NewPassword = "a brand new passphrase";

    private HttpClient Client => server.Client;

    [Fact]
    public async Task Changing_the_password_asks_for_the_current_one_and_logs_out_other_devices()
    {
        var username = NewUsername();
        var current = await Client.RegisterAsync(username);
        var other = await Client.LogInAsync(username);
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(other.AccessToken));

        using var challenge = await Client.PostAsync($"{V3}/account/password", Json(new { new_password = NewPassword }), current.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");
        using var response = await Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = NewPassword, auth = PasswordAuth(session, current.UserId) }), current.AccessToken);

        await response.OkJsonAsync();
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(current.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await Client.WhoAmIStatusAsync(other.AccessToken));
        using var oldPassword = await Client.PostAsync($"{V3}/login", Json(new { type = "m.login.password", user = username, password = Password }));
        await oldPassword.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await Client.LogInAsync(username, NewPassword);
    }

    [Fact]
    public async Task Other_devices_stay_when_logout_devices_is_false()
    {
        var username = NewUsername();
        var current = await Client.RegisterAsync(username);
        var other = await Client.LogInAsync(username);

        using var response = await Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = NewPassword, logout_devices = false, auth = PasswordAuth(session: null, current.Localpart) }), current.AccessToken);

        await response.OkJsonAsync();
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(other.AccessToken));
        await Client.LogInAsync(username, NewPassword);
    }

    [Fact]
    public async Task A_wrong_current_password_fails_the_stage_and_changes_nothing()
    {
        var user = await Client.RegisterAsync(NewUsername());
        using var challenge = await Client.PostAsync($"{V3}/account/password", Json(new { new_password = NewPassword }), user.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");

        using var response = await Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = NewPassword, auth = PasswordAuth(session, user.UserId, "wrong") }), user.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal("M_FORBIDDEN", body.GetProperty("errcode").GetString());
        Assert.Equal(session, body.GetProperty("session").GetString());
        await Client.LogInAsync(user.Localpart, Password);
    }

    [Fact]
    public async Task The_password_stage_must_name_the_logged_in_user()
    {
        var other = await Client.RegisterAsync(NewUsername());
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = NewPassword, auth = PasswordAuth(session: null, other.UserId) }), user.AccessToken);

        // As Synapse: not a failed stage (401) but a refusal of the request (403).
        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await Client.LogInAsync(user.Localpart, Password);
        await Client.LogInAsync(other.Localpart, Password);
    }

    [Fact]
    public async Task A_session_of_another_user_is_refused()
    {
        var other = await Client.RegisterAsync(NewUsername());
        var user = await Client.RegisterAsync(NewUsername());
        using var challenge = await Client.PostAsync($"{V3}/account/password", Json(new { new_password = NewPassword }), other.AccessToken);
        var session = await challenge.ChallengeSessionAsync("m.login.password");

        using var response = await Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = NewPassword, auth = PasswordAuth(session, user.UserId) }), user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Theory]
    [InlineData(null, """{"new_password":"x"}""", HttpStatusCode.Unauthorized, "M_MISSING_TOKEN")]
    [InlineData("token", """{"new_password":""", HttpStatusCode.BadRequest, "M_NOT_JSON")]
    [InlineData("token", """{"logout_devices":false}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("token", """{"new_password":null}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("token", """{"new_password":"x","logout_devices":"no"}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("token", """{"new_password":""}""", HttpStatusCode.BadRequest, "M_WEAK_PASSWORD")]
    public async Task Bad_requests_are_refused(string? token, string body, HttpStatusCode status, string errcode)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/account/password", body, token is null ? null : user.AccessToken);

        await response.AssertErrorAsync(status, errcode);
    }
}
