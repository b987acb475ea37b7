using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteRegistrationTests(SqliteAccountsServer server) : RegistrationTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresRegistrationTests(PostgresAccountsServer server) : RegistrationTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>POST /register with open registration (the m.login.dummy flow) and GET /register/available.</summary>
public abstract class RegistrationTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task First_call_asks_for_the_dummy_stage_and_creates_nothing()
    {
        var username = NewUsername();

        using var response = await Client.PostAsync($"{V3}/register", Json(new { username, password = Password }));

        var session = await response.ChallengeSessionAsync("m.login.dummy");
        Assert.NotEmpty(session);
        Assert.True(await Client.IsUsernameAvailableAsync(username));
    }

    [Fact]
    public async Task Completing_the_dummy_stage_creates_the_account_and_logs_in()
    {
        var username = NewUsername();
        var session = await Client.StartRegistrationAsync();

        using var response = await Client.PostAsync($"{V3}/register", Json(new
        {
            username,
            password = Password,
            device_id = "PHONE",
            initial_device_display_name = "Jungle Phone",
            auth = new { type = "m.login.dummy", session },
        }));

        var body = await response.OkJsonAsync();
        Assert.Equal($"@{username}:localhost", body.GetProperty("user_id").GetString());
        Assert.Equal("PHONE", body.GetProperty("device_id").GetString());
        Assert.Equal("localhost", body.GetProperty("home_server").GetString());
        var token = body.GetProperty("access_token").GetString()!;
        using var whoami = await Client.GetAsync($"{V3}/account/whoami", token);
        Assert.Equal($"@{username}:localhost", (await whoami.OkJsonAsync()).GetProperty("user_id").GetString());
        using var device = await Client.GetAsync($"{V3}/devices/PHONE", token);
        Assert.Equal("Jungle Phone", (await device.OkJsonAsync()).GetProperty("display_name").GetString());
        Assert.False(await Client.IsUsernameAvailableAsync(username));
    }

    [Fact]
    public async Task Passwords_are_stored_only_as_pbkdf2_hashes_with_the_configured_iterations()
    {
        var user = await Client.RegisterAsync(NewUsername());

        var store = server.Server.App.Services.GetRequiredService<IHomeServerStore>();
        var account = await store.Accounts.GetAccountAsync(user.UserId, CancellationToken.None);

        var parts = account!.PasswordHash!.Split('$');
        Assert.Equal(["pbkdf2-sha512", "1000"], parts[..2]);
        Assert.Equal(16, Convert.FromBase64String(parts[2]).Length);
        Assert.Equal(64, Convert.FromBase64String(parts[3]).Length);
        Assert.DoesNotContain(Password, account.PasswordHash);
    }

    [Fact]
    public async Task Inhibit_login_creates_the_account_without_a_device()
    {
        var username = NewUsername();
        var session = await Client.StartRegistrationAsync();

        using var response = await Client.PostAsync($"{V3}/register", Json(new
        {
            username,
            password = Password,
            inhibit_login = true,
            auth = new { type = "m.login.dummy", session },
        }));

        var body = await response.OkJsonAsync();
        Assert.Equal($"@{username}:localhost", body.GetProperty("user_id").GetString());
        Assert.False(body.TryGetProperty("access_token", out _));
        Assert.False(body.TryGetProperty("device_id", out _));
        var login = await Client.LogInAsync(username);
        using var devices = await Client.GetAsync($"{V3}/devices", login.AccessToken);
        Assert.Single((await devices.OkJsonAsync()).GetProperty("devices").EnumerateArray());
    }

    [Fact]
    public async Task Without_username_the_server_picks_a_valid_user_id()
    {
        var session = await Client.StartRegistrationAsync();

        using var response = await Client.PostAsync($"{V3}/register", Json(new { password = Password, auth = new { type = "m.login.dummy", session } }));

        var userId = (await response.OkJsonAsync()).GetProperty("user_id").GetString()!;
        Assert.Matches("^@[a-z0-9]+:localhost$", userId);
        var login = await Client.LogInAsync(userId);
        Assert.Equal(userId, login.UserId);
    }

    [Theory]
    [InlineData("Alice")]
    [InlineData("")]
    [InlineData("al ice")]
    [InlineData("al:ice")]
    [InlineData("ålice")]
    public async Task Invalid_usernames_are_refused_before_authentication(string username)
    {
        using var response = await Client.PostAsync($"{V3}/register", Json(new { username, password = Password }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_USERNAME");
    }

    [Fact]
    public async Task A_user_id_longer_than_255_bytes_is_an_invalid_username()
    {
        using var response = await Client.PostAsync($"{V3}/register", Json(new { username = new string('a', 250), password = Password }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_USERNAME");
    }

    [Fact]
    public async Task A_taken_username_is_refused_before_authentication()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/register", Json(new { username = user.Localpart, password = Password }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_USER_IN_USE");
    }

    [Fact]
    public async Task A_username_taken_during_authentication_is_refused_when_it_completes()
    {
        var username = NewUsername();
        var session = await Client.StartRegistrationAsync();
        var winner = await Client.RegisterAsync(username);

        using var response = await Client.PostAsync($"{V3}/register", Json(new
        {
            username,
            password = "another password",
            auth = new { type = "m.login.dummy", session },
        }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_USER_IN_USE");
        Assert.Equal(winner.UserId, (await Client.LogInAsync(username)).UserId);
    }

    [Fact]
    public async Task Guest_registration_is_forbidden()
    {
        using var response = await Client.PostAsync($"{V3}/register?kind=guest", "{}");

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_GUEST_ACCESS_FORBIDDEN");
    }

    [Fact]
    public async Task A_session_registers_only_once()
    {
        var session = await Client.StartRegistrationAsync();
        using var first = await Client.PostAsync($"{V3}/register", Json(new { username = NewUsername(), password = Password, auth = new { type = "m.login.dummy", session } }));
        await first.OkJsonAsync();

        using var second = await Client.PostAsync($"{V3}/register", Json(new { username = NewUsername(), password = Password, auth = new { type = "m.login.dummy", session } }));

        await second.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN");
    }

    [Theory]
    [InlineData("NoSuchSessionIdOfThirtyTwoChars1")]
    [InlineData("short")]
    public async Task Unknown_sessions_are_refused(string session)
    {
        var username = NewUsername();

        using var response = await Client.PostAsync($"{V3}/register", Json(new { username, password = Password, auth = new { type = "m.login.dummy", session } }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN");
        Assert.True(await Client.IsUsernameAvailableAsync(username));
    }

    [Fact]
    public async Task A_stage_that_is_not_offered_fails_and_creates_nothing()
    {
        var username = NewUsername();
        var session = await Client.StartRegistrationAsync();

        using var response = await Client.PostAsync($"{V3}/register", Json(new { username, password = Password, auth = PasswordAuth(session, username) }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal("M_UNRECOGNIZED", body.GetProperty("errcode").GetString());
        Assert.Equal(session, body.GetProperty("session").GetString());
        Assert.Empty(body.GetProperty("completed").EnumerateArray());
        Assert.True(await Client.IsUsernameAvailableAsync(username));
    }

    [Fact]
    public async Task Completing_authentication_without_a_password_is_refused_and_keeps_the_session()
    {
        var username = NewUsername();
        var session = await Client.StartRegistrationAsync();

        using var missing = await Client.PostAsync($"{V3}/register", Json(new { username, auth = new { type = "m.login.dummy", session } }));
        using var empty = await Client.PostAsync($"{V3}/register", Json(new { username, password = "", auth = new { type = "m.login.dummy", session } }));

        await missing.AssertErrorAsync(HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await empty.AssertErrorAsync(HttpStatusCode.BadRequest, "M_WEAK_PASSWORD");
        Assert.True(await Client.IsUsernameAvailableAsync(username));
        using var retry = await Client.PostAsync($"{V3}/register", Json(new { username, password = Password, auth = new { type = "m.login.dummy", session } }));
        await retry.OkJsonAsync();
    }

    [Fact]
    public async Task An_unstorable_device_id_is_refused_and_creates_nothing()
    {
        var username = NewUsername();
        var session = await Client.StartRegistrationAsync();

        using var response = await Client.PostAsync($"{V3}/register", Json(new
        {
            username,
            password = Password,
            device_id = new string('D', 256),
            auth = new { type = "m.login.dummy", session },
        }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        Assert.True(await Client.IsUsernameAvailableAsync(username));
    }

    [Theory]
    [InlineData("{\"username\":", "M_NOT_JSON")]
    [InlineData("not json", "M_NOT_JSON")]
    [InlineData("[]", "M_BAD_JSON")]
    [InlineData("{\"username\":42}", "M_BAD_JSON")]
    [InlineData("{\"inhibit_login\":\"yes\"}", "M_BAD_JSON")]
    [InlineData("{\"auth\":\"dummy\"}", "M_BAD_JSON")]
    public async Task Malformed_bodies_are_refused(string body, string errcode)
    {
        using var response = await Client.PostAsync($"{V3}/register", body);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
    }

    [Fact]
    public async Task Availability_says_whether_a_username_is_free_valid_and_untaken()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var free = await Client.GetAsync($"{V3}/register/available?username={NewUsername()}", token: null);
        using var taken = await Client.GetAsync($"{V3}/register/available?username={user.Localpart}", token: null);
        using var invalid = await Client.GetAsync($"{V3}/register/available?username=UPPER", token: null);
        using var missing = await Client.GetAsync($"{V3}/register/available", token: null);

        Assert.True((await free.OkJsonAsync()).GetProperty("available").GetBoolean());
        await taken.AssertErrorAsync(HttpStatusCode.BadRequest, "M_USER_IN_USE");
        await invalid.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_USERNAME");
        await missing.AssertErrorAsync(HttpStatusCode.BadRequest, "M_MISSING_PARAM");
    }

    [Fact]
    public async Task Registration_token_validity_is_false_when_registration_is_open()
    {
        using var response = await Client.GetAsync("/_matrix/client/v1/register/m.login.registration_token/validity?token=abc", token: null);

        Assert.False((await response.OkJsonAsync()).GetProperty("valid").GetBoolean());
    }
}
