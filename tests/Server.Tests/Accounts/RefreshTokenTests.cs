using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteRefreshTokenTests(SqliteAccountsServer server) : RefreshTokenTests(server), IClassFixture<SqliteAccountsServer>
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRefreshTokenTests(PostgresAccountsServer server) : RefreshTokenTests(server), IClassFixture<PostgresAccountsServer>
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>Refresh tokens (<c>refresh_token</c> on /login and /register, <c>POST /refresh</c>) and expiring access tokens.</summary>
public abstract class RefreshTokenTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    private sealed record Tokens(string AccessToken, string? RefreshToken, long? ExpiresInMs);

    private static Tokens TokensOf(JsonElement body) => new(
        body.GetProperty("access_token").GetString()!,
        body.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : null,
        body.TryGetProperty("expires_in_ms", out var expires) ? expires.GetInt64() : null);

    private static async Task<Tokens> LogInAsync(HttpClient client, string localpart, bool? refreshToken)
    {
        using var response = await client.PostAsync($"{V3}/login", Json(new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user = localpart },
            password = Password,
            refresh_token = refreshToken,
        }));
        return TokensOf(await response.OkJsonAsync());
    }

    private static async Task<HttpResponseMessage> RefreshAsync(HttpClient client, string refreshToken) =>
        await client.PostAsync($"{V3}/refresh", Json(new { refresh_token = refreshToken }));

    private static async Task<Tokens> RefreshOkAsync(HttpClient client, string refreshToken)
    {
        using var response = await RefreshAsync(client, refreshToken);
        return TokensOf(await response.OkJsonAsync());
    }

    private static async Task AssertRefreshRefusedAsync(HttpClient client, string refreshToken)
    {
        using var response = await RefreshAsync(client, refreshToken);
        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
        Assert.True((await response.ReadJsonAsync()).GetProperty("soft_logout").GetBoolean());
    }

    private static async Task<HttpStatusCode> WhoAmIStatusAsync(HttpClient client, string accessToken)
    {
        using var response = await client.GetAsync($"{V3}/account/whoami", accessToken);
        return response.StatusCode;
    }

    [Fact]
    public async Task Login_and_registration_give_a_refresh_token_only_when_asked()
    {
        var user = await Client.RegisterAsync(NewUsername());

        var plain = await LogInAsync(Client, user.Localpart, refreshToken: null);
        Assert.Null(plain.RefreshToken);
        Assert.Null(plain.ExpiresInMs);
        var refused = await LogInAsync(Client, user.Localpart, refreshToken: false);
        Assert.Null(refused.RefreshToken);
        var refreshable = await LogInAsync(Client, user.Localpart, refreshToken: true);
        Assert.StartsWith("mrt_", refreshable.RefreshToken);
        Assert.Equal(5 * 60 * 1000, refreshable.ExpiresInMs);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(Client, refreshable.AccessToken));

        var session = await Client.StartRegistrationAsync();
        using var registered = await Client.PostAsync($"{V3}/register", Json(new
        {
            username = NewUsername(),
            password = Password,
            refresh_token = true,
            auth = new { type = "m.login.dummy", session },
        }));
        var tokens = TokensOf(await registered.OkJsonAsync());
        Assert.NotNull(tokens.RefreshToken);
        Assert.Equal(5 * 60 * 1000, tokens.ExpiresInMs);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(Client, (await RefreshOkAsync(Client, tokens.RefreshToken!)).AccessToken));
    }

    [Fact]
    public async Task A_used_refresh_token_works_until_the_new_tokens_are_used()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var first = await LogInAsync(Client, user.Localpart, refreshToken: true);

        var second = await RefreshOkAsync(Client, first.RefreshToken!);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.Equal(5 * 60 * 1000, second.ExpiresInMs);
        // The old access token is given up at once; the old refresh token still works (the answer may have been lost).
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIStatusAsync(Client, first.AccessToken));
        var retried = await RefreshOkAsync(Client, first.RefreshToken!);
        // Retrying supersedes what the first try issued.
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIStatusAsync(Client, second.AccessToken));
        await AssertRefreshRefusedAsync(Client, second.RefreshToken!);

        // Using the new access token retires the old refresh token.
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(Client, retried.AccessToken));
        await AssertRefreshRefusedAsync(Client, first.RefreshToken!);

        // Using the new refresh token retires the one before it too.
        var third = await RefreshOkAsync(Client, retried.RefreshToken!);
        var fourth = await RefreshOkAsync(Client, third.RefreshToken!);
        await AssertRefreshRefusedAsync(Client, retried.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(Client, fourth.AccessToken));
        await AssertRefreshRefusedAsync(Client, third.RefreshToken!);

        // The device stays the same throughout.
        using var whoami = await Client.GetAsync($"{V3}/account/whoami", fourth.AccessToken);
        var devices = await (await Client.GetAsync($"{V3}/devices", fourth.AccessToken)).OkJsonAsync();
        var deviceId = (await whoami.OkJsonAsync()).GetProperty("device_id").GetString();
        Assert.Contains(deviceId, devices.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("device_id").GetString()));
    }

    [Fact]
    public async Task Logging_out_revokes_the_refresh_token()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var tokens = await LogInAsync(Client, user.Localpart, refreshToken: true);
        using (var logout = await Client.PostAsync($"{V3}/logout", "{}", tokens.AccessToken)) await logout.OkJsonAsync();
        await AssertRefreshRefusedAsync(Client, tokens.RefreshToken!);

        var other = await LogInAsync(Client, user.Localpart, refreshToken: true);
        var refreshed = await RefreshOkAsync(Client, other.RefreshToken!);
        using (var logoutAll = await Client.PostAsync($"{V3}/logout/all", "{}", refreshed.AccessToken)) await logoutAll.OkJsonAsync();
        await AssertRefreshRefusedAsync(Client, other.RefreshToken!);
        await AssertRefreshRefusedAsync(Client, refreshed.RefreshToken!);
    }

    [Fact]
    public async Task Bad_refresh_requests_get_the_spec_errors()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var tokens = await LogInAsync(Client, user.Localpart, refreshToken: true);

        using (var missing = await Client.PostAsync($"{V3}/refresh", "{}")) await missing.AssertErrorAsync(HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        using (var number = await Client.PostAsync($"{V3}/refresh", """{"refresh_token":1}""")) await number.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var notJson = await Client.PostAsync($"{V3}/refresh", "refresh")) await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        await AssertRefreshRefusedAsync(Client, "garbage");
        await AssertRefreshRefusedAsync(Client, tokens.AccessToken);
        await AssertRefreshRefusedAsync(Client, "mrt_" + tokens.RefreshToken![4..^2] + "AA");
        // None of that used the token up.
        await RefreshOkAsync(Client, tokens.RefreshToken);
    }

    [Fact]
    public async Task A_deactivated_account_cannot_refresh()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var tokens = await LogInAsync(Client, user.Localpart, refreshToken: true);
        using (var deactivate = await Client.PostAsync($"{V3}/account/deactivate", Json(new
               {
                   auth = new { type = "m.login.password", identifier = new { type = "m.id.user", user = user.Localpart }, password = Password },
               }), tokens.AccessToken))
        {
            await deactivate.OkJsonAsync();
        }

        await AssertRefreshRefusedAsync(Client, tokens.RefreshToken!);
    }

    [Fact]
    public async Task An_expired_access_token_is_a_soft_logout_and_refreshing_ends_it()
    {
        await using var backend = await CreateBackendAsync();
        await using var shortLived = await RunningServer.StartAsync(
            [.. AccountsServerFixture.TestArguments, .. backend.ServerArguments, "--Tokens:AccessTokenLifetime=00:00:01.5"]);
        var client = shortLived.Client;
        var user = await client.RegisterAsync(NewUsername());
        var tokens = await LogInAsync(client, user.Localpart, refreshToken: true);
        Assert.Equal(1500, tokens.ExpiresInMs);
        var plain = await LogInAsync(client, user.Localpart, refreshToken: null);

        await Task.Delay(TimeSpan.FromMilliseconds(1700));

        using (var expired = await client.GetAsync($"{V3}/account/whoami", tokens.AccessToken))
        {
            await expired.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
            Assert.True((await expired.ReadJsonAsync()).GetProperty("soft_logout").GetBoolean());
        }
        // Tokens issued without a refresh token do not expire.
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(client, plain.AccessToken));
        // An unknown token is a hard logout.
        using (var unknown = await client.GetAsync($"{V3}/account/whoami", "mat_unknown"))
        {
            await unknown.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
            Assert.False((await unknown.ReadJsonAsync()).GetProperty("soft_logout").GetBoolean());
        }

        var refreshed = await RefreshOkAsync(client, tokens.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(client, refreshed.AccessToken));
    }
}
