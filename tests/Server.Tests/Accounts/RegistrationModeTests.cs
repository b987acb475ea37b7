using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

/// <summary>Registration with tokens, and no registration at all.</summary>
public sealed class RegistrationModeTests
{
    private const string Token = "invite-2026";

    private static Task<RunningServer> StartAsync(params string[] args) =>
        RunningServer.StartAsync([.. AccountsServerFixture.TestArguments, .. args]);

    [Fact]
    public async Task Token_mode_needs_a_configured_registration_token()
    {
        await using var server = await StartAsync("--Registration:Mode=token", $"--Registration:Tokens:0={Token}", "--Registration:Tokens:1=second");
        var username = NewUsername();
        var session = await server.Client.StartRegistrationAsync("m.login.registration_token");

        using var wrong = await server.Client.PostAsync($"{V3}/register",
            Json(new { username, password = Password, auth = new { type = "m.login.registration_token", token = "invite-2025", session } }));
        using var dummy = await server.Client.PostAsync($"{V3}/register",
            Json(new { username, password = Password, auth = new { type = "m.login.dummy", session } }));

        foreach (var (response, errcode) in new[] { (wrong, "M_UNAUTHORIZED"), (dummy, "M_UNRECOGNIZED") })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = await response.ReadJsonAsync();
            Assert.Equal(errcode, body.GetProperty("errcode").GetString());
            Assert.Equal(session, body.GetProperty("session").GetString());
        }
        Assert.True(await server.Client.IsUsernameAvailableAsync(username));

        using var right = await server.Client.PostAsync($"{V3}/register",
            Json(new { username, password = Password, auth = new { type = "m.login.registration_token", token = "second", session } }));
        Assert.Equal($"@{username}:localhost", (await right.OkJsonAsync()).GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task Token_validity_tells_configured_tokens_from_others()
    {
        await using var server = await StartAsync("--Registration:Mode=token", $"--Registration:Tokens:0={Token}");
        const string path = "/_matrix/client/v1/register/m.login.registration_token/validity";

        using var valid = await server.Client.GetAsync($"{path}?token={Token}", token: null);
        using var invalid = await server.Client.GetAsync($"{path}?token=invite", token: null);
        using var missing = await server.Client.GetAsync(path, token: null);

        Assert.True((await valid.OkJsonAsync()).GetProperty("valid").GetBoolean());
        Assert.False((await invalid.OkJsonAsync()).GetProperty("valid").GetBoolean());
        await missing.AssertErrorAsync(HttpStatusCode.BadRequest, "M_MISSING_PARAM");
    }

    [Fact]
    public async Task Disabled_registration_is_forbidden_and_so_are_its_tokens()
    {
        await using var server = await StartAsync("--Registration:Mode=disabled");

        using var register = await server.Client.PostAsync($"{V3}/register", Json(new { username = NewUsername(), password = Password }));
        using var validity = await server.Client.GetAsync("/_matrix/client/v1/register/m.login.registration_token/validity?token=x", token: null);

        await register.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN", "Registration is disabled");
        await validity.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }
}
