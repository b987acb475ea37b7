using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteRegistrationFlowsTests(SqliteAccountsServer server) : RegistrationFlowsTests(server), IClassFixture<SqliteAccountsServer>;

/// <summary>
/// How a client learns the registration flows. The spec has only POST /register (401 with the flows and a session);
/// GET /register was the flows query of the old v1 API, which Synapse no longer serves either.
/// </summary>
public abstract class RegistrationFlowsTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task Get_register_is_405_unrecognized_and_names_post()
    {
        using var response = await Client.GetAsync($"{V3}/register", token: null);

        await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "M_UNRECOGNIZED");
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Post_register_without_auth_answers_401_with_the_flows_params_and_a_session_and_without_a_body_is_not_json()
    {
        using var response = await Client.PostAsync($"{V3}/register", "{}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(["m.login.dummy"], body.GetProperty("flows")[0].GetProperty("stages").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, body.GetProperty("params").ValueKind);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("session").GetString()));
        Assert.False(body.TryGetProperty("errcode", out _));

        using var empty = await Client.SendAsync(HttpMethod.Post, $"{V3}/register");
        await empty.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
    }
}
