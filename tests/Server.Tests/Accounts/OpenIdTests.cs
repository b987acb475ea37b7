using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteOpenIdTests(SqliteAccountsServer server) : OpenIdTests(server), IClassFixture<SqliteAccountsServer>
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresOpenIdTests(PostgresAccountsServer server) : OpenIdTests(server), IClassFixture<PostgresAccountsServer>
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>OpenID tokens (<c>/user/{userId}/openid/request_token</c>) and the federation userinfo endpoint that checks them.</summary>
public abstract class OpenIdTests(AccountsServerFixture server)
{
    private const string UserInfo = "/_matrix/federation/v1/openid/userinfo";

    private HttpClient Client => server.Client;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    private static async Task<string> RequestTokenAsync(HttpClient client, RegisteredUser user, string version = "v3")
    {
        using var response = await client.PostAsync($"/_matrix/client/{version}/user/{Uri.EscapeDataString(user.UserId)}/openid/request_token", "{}", user.AccessToken);
        var body = await response.OkJsonAsync();
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal("localhost", body.GetProperty("matrix_server_name").GetString());
        return body.GetProperty("access_token").GetString()!;
    }

    [Fact]
    public async Task A_third_party_learns_the_user_from_the_token()
    {
        var user = await Client.RegisterAsync(NewUsername());
        using var response = await Client.PostAsync($"{V3}/user/{Uri.EscapeDataString(user.UserId)}/openid/request_token", "{}", user.AccessToken);
        var body = await response.OkJsonAsync();
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt64());
        var token = body.GetProperty("access_token").GetString()!;

        // No access token and no federation signature: the OpenID token is the proof.
        using var info = await Client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(token)}", token: null);
        Assert.Equal($$"""{"sub":"{{user.UserId}}"}""", await info.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);

        // The r0 path of older clients gives one too.
        var legacy = await RequestTokenAsync(Client, user, "r0");
        using var legacyInfo = await Client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(legacy)}", token: null);
        Assert.Equal(user.UserId, (await legacyInfo.OkJsonAsync()).GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Tokens_only_for_oneself_and_bad_ones_are_refused()
    {
        var alice = await Client.RegisterAsync(NewUsername());
        var bob = await Client.RegisterAsync(NewUsername());

        using (var other = await Client.PostAsync($"{V3}/user/{Uri.EscapeDataString(bob.UserId)}/openid/request_token", "{}", alice.AccessToken))
            await other.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        using (var anonymous = await Client.PostAsync($"{V3}/user/{Uri.EscapeDataString(alice.UserId)}/openid/request_token", "{}"))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        using (var array = await Client.PostAsync($"{V3}/user/{Uri.EscapeDataString(alice.UserId)}/openid/request_token", "[]", alice.AccessToken))
            await array.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");

        using (var missing = await Client.GetAsync(UserInfo, token: null)) await missing.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        foreach (var bad in new[] { "garbage", alice.AccessToken, "moi_" + new string('A', 60) })
        {
            using var response = await Client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(bad)}", token: null);
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
        }
        // A token of Alice's does not pass for a token of Bob's, whose id a forger could write into it.
        var token = await RequestTokenAsync(Client, alice);
        var forged = "moi_" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(bob.UserId)).TrimEnd('=').Replace('+', '-').Replace('/', '_')
            + token[token.LastIndexOf('_')..];
        using (var response = await Client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(forged)}", token: null))
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }

    [Fact]
    public async Task Tokens_expire_and_die_with_the_account()
    {
        await using var backend = await CreateBackendAsync();
        await using var shortLived = await RunningServer.StartAsync(
            [.. AccountsServerFixture.TestArguments, .. backend.ServerArguments, "--Tokens:OpenIdTokenLifetime=00:00:01"]);
        var client = shortLived.Client;
        var user = await client.RegisterAsync(NewUsername());
        var token = await RequestTokenAsync(client, user);
        using (var fresh = await client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(token)}", token: null)) await fresh.OkJsonAsync();

        await Task.Delay(TimeSpan.FromMilliseconds(1200));
        using (var expired = await client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(token)}", token: null))
            await expired.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");

        var leaving = await Client.RegisterAsync(NewUsername());
        var live = await RequestTokenAsync(Client, leaving);
        using (var deactivate = await Client.PostAsync($"{V3}/account/deactivate", Json(new
               {
                   auth = new { type = "m.login.password", identifier = new { type = "m.id.user", user = leaving.Localpart }, password = Password },
               }), leaving.AccessToken))
        {
            await deactivate.OkJsonAsync();
        }
        using var gone = await Client.GetAsync($"{UserInfo}?access_token={Uri.EscapeDataString(live)}", token: null);
        await gone.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }
}
