using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteServerExtrasTests(SqliteAccountsServer server) : ServerExtrasTests(server), IClassFixture<SqliteAccountsServer>
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresServerExtrasTests(PostgresAccountsServer server) : ServerExtrasTests(server), IClassFixture<PostgresAccountsServer>
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>
/// What a server without email, SMS, identity servers or application services answers (3PIDs, third-party look-ups,
/// application service endpoints), and the endpoints served from configuration (TURN, support contacts) or from the
/// account (whois).
/// </summary>
public abstract class ServerExtrasTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    private static async Task<JsonElement> OkAsync(HttpClient client, HttpMethod method, string path, string? token, string? body = null)
    {
        using var response = await client.SendAsync(method, path, body, token);
        return await response.OkJsonAsync();
    }

    private static async Task FailsAsync(HttpClient client, HttpMethod method, string path, string? token, string? body, HttpStatusCode status, string errcode)
    {
        using var response = await client.SendAsync(method, path, body, token);
        await response.AssertErrorAsync(status, errcode);
    }

    [Fact]
    public async Task Third_party_identifiers_are_never_validated_added_or_bound()
    {
        var user = await Client.RegisterAsync(NewUsername());
        Assert.Equal("""{"threepids":[]}""", (await OkAsync(Client, HttpMethod.Get, $"{V3}/account/3pid", user.AccessToken)).GetRawText());
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/account/3pid", null, null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        var email = Json(new { client_secret = "secret", email = "alice@example.org", send_attempt = 1 });
        var msisdn = Json(new { client_secret = "secret", country = "GB", phone_number = "07700900001", send_attempt = 1 });
        foreach (var prefix in new[] { "/register", "/account/password", "/account/3pid" })
        {
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{prefix}/email/requestToken", null, email, HttpStatusCode.BadRequest, "M_THREEPID_MEDIUM_NOT_SUPPORTED");
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{prefix}/msisdn/requestToken", null, msisdn, HttpStatusCode.BadRequest, "M_THREEPID_MEDIUM_NOT_SUPPORTED");
            // Bad bodies get their own errors first.
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{prefix}/email/requestToken", null, Json(new { client_secret = "s", send_attempt = 1 }),
                HttpStatusCode.BadRequest, "M_MISSING_PARAM");
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{prefix}/email/requestToken", null, Json(new { client_secret = "s", email = "a@b.c", send_attempt = "1" }),
                HttpStatusCode.BadRequest, "M_BAD_JSON");
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{prefix}/msisdn/requestToken", null, "[]", HttpStatusCode.BadRequest, "M_BAD_JSON");
        }

        // Adding asks for the password first (user-interactive authentication), then finds no validation session.
        var add = Json(new { client_secret = "secret", sid = "sid" });
        using (var challenge = await Client.PostAsync($"{V3}/account/3pid/add", add, user.AccessToken))
        {
            var session = await challenge.ChallengeSessionAsync("m.login.password");
            await FailsAsync(Client, HttpMethod.Post, $"{V3}/account/3pid/add", user.AccessToken, Json(new
            {
                client_secret = "secret",
                sid = "sid",
                auth = new { type = "m.login.password", session, identifier = new { type = "m.id.user", user = user.Localpart }, password = Password },
            }), HttpStatusCode.BadRequest, "M_THREEPID_AUTH_FAILED");
        }
        await FailsAsync(Client, HttpMethod.Post, $"{V3}/account/3pid/add", user.AccessToken, Json(new { sid = "sid" }), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await FailsAsync(Client, HttpMethod.Post, $"{V3}/account/3pid/bind", user.AccessToken,
            Json(new { client_secret = "s", id_server = "id.example.org", id_access_token = "t", sid = "sid" }), HttpStatusCode.BadRequest, "M_SERVER_NOT_TRUSTED");
        await FailsAsync(Client, HttpMethod.Post, $"{V3}/account/3pid/bind", user.AccessToken, Json(new { client_secret = "s" }), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await FailsAsync(Client, HttpMethod.Post, $"{V3}/account/3pid", user.AccessToken,
            Json(new { three_pid_creds = new { client_secret = "s", id_server = "id.example.org", id_access_token = "t", sid = "sid" } }),
            HttpStatusCode.Forbidden, "M_THREEPID_AUTH_FAILED");

        foreach (var path in new[] { "/account/3pid/delete", "/account/3pid/unbind" })
        {
            var removed = await OkAsync(Client, HttpMethod.Post, $"{V3}{path}", user.AccessToken, Json(new { medium = "email", address = "alice@example.org" }));
            Assert.Equal("no-support", removed.GetProperty("id_server_unbind_result").GetString());
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{path}", user.AccessToken, Json(new { medium = "email" }), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
            await FailsAsync(Client, HttpMethod.Post, $"{V3}{path}", null, Json(new { medium = "email", address = "a" }), HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        }
        Assert.Equal("""{"threepids":[]}""", (await OkAsync(Client, HttpMethod.Get, $"{V3}/account/3pid", user.AccessToken)).GetRawText());
    }

    [Fact]
    public async Task No_protocols_and_no_application_services()
    {
        var user = await Client.RegisterAsync(NewUsername());
        Assert.Equal("{}", (await OkAsync(Client, HttpMethod.Get, $"{V3}/thirdparty/protocols", user.AccessToken)).GetRawText());
        foreach (var path in new[] { "/thirdparty/protocol/irc", "/thirdparty/location/irc?channel=x", "/thirdparty/user/irc?nick=x" })
            await FailsAsync(Client, HttpMethod.Get, V3 + path, user.AccessToken, null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal("[]", (await OkAsync(Client, HttpMethod.Get, $"{V3}/thirdparty/location?alias=%23room%3Alocalhost", user.AccessToken)).GetRawText());
        Assert.Equal("[]", (await OkAsync(Client, HttpMethod.Get, $"{V3}/thirdparty/user?userid=%40bob%3Alocalhost", user.AccessToken)).GetRawText());
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/thirdparty/location", user.AccessToken, null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/thirdparty/protocols", null, null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        // A user's access token is never an application service's.
        await FailsAsync(Client, HttpMethod.Post, "/_matrix/client/v1/appservice/irc/ping", user.AccessToken, "{}", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(Client, HttpMethod.Post, "/_matrix/client/v1/appservice/irc/ping", null, "{}", HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await FailsAsync(Client, HttpMethod.Put, $"{V3}/directory/list/appservice/irc/{Uri.EscapeDataString("!r:localhost")}", user.AccessToken,
            Json(new { visibility = "public" }), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        // The ping exists only under v1.
        await FailsAsync(Client, HttpMethod.Post, "/_matrix/client/r0/appservice/irc/ping", user.AccessToken, "{}", HttpStatusCode.NotFound, "M_UNRECOGNIZED");
    }

    [Fact]
    public async Task Without_configuration_there_is_no_turn_server_and_no_support_page()
    {
        var user = await Client.RegisterAsync(NewUsername());
        Assert.Equal("{}", (await OkAsync(Client, HttpMethod.Get, $"{V3}/voip/turnServer", user.AccessToken)).GetRawText());
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/voip/turnServer", null, null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await FailsAsync(Client, HttpMethod.Get, "/.well-known/matrix/support", null, null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Configured_turn_credentials_are_coturns_and_the_support_contacts_are_published()
    {
        await using var backend = await CreateBackendAsync();
        await using var configured = await RunningServer.StartAsync([
            .. AccountsServerFixture.TestArguments, .. backend.ServerArguments,
            "--Voip:TurnUris:0=turn:turn.example.org:3478?transport=udp", "--Voip:TurnUris:1=turns:turn.example.org:5349",
            "--Voip:TurnSharedSecret=s3cret", "--Voip:TurnUserLifetime=01:00:00",
            "--Support:Contacts:0:MatrixId=@admin:localhost", "--Support:Contacts:0:Role=m.role.admin",
            "--Support:Contacts:1:EmailAddress=security@example.org", "--Support:Contacts:1:Role=m.role.security",
            "--Support:SupportPage=https://example.org/support"]);
        var user = await configured.Client.RegisterAsync(NewUsername());

        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var turn = await OkAsync(configured.Client, HttpMethod.Get, $"{V3}/voip/turnServer", user.AccessToken);
        Assert.Equal(["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"], turn.GetProperty("uris").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal(3600, turn.GetProperty("ttl").GetInt64());
        var username = turn.GetProperty("username").GetString()!;
        var parts = username.Split(':', 2);
        Assert.Equal(user.UserId, parts[1]);
        Assert.InRange(long.Parse(parts[0]), before + 3600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600);
        // What coturn computes from its static-auth-secret.
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes("s3cret"), Encoding.UTF8.GetBytes(username)));
        Assert.Equal(expected, turn.GetProperty("password").GetString());

        using var support = await configured.Client.GetAsync("/.well-known/matrix/support", token: null);
        Assert.Equal(
            """{"contacts":[{"matrix_id":"@admin:localhost","role":"m.role.admin"},{"email_address":"security@example.org","role":"m.role.security"}],"support_page":"https://example.org/support"}""",
            (await support.OkJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task Whois_is_for_admins_and_oneself()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var other = await Client.RegisterAsync(NewUsername());
        var admin = await TestUsers.CreateAsync(server.Server, "admin", isAdmin: true);

        var own = await OkAsync(Client, HttpMethod.Get, $"{V3}/admin/whois/{Uri.EscapeDataString(user.UserId)}", user.AccessToken);
        Assert.Equal(user.UserId, own.GetProperty("user_id").GetString());
        var connection = Assert.Single(Assert.Single(own.GetProperty("devices").GetProperty(user.DeviceId).GetProperty("sessions").EnumerateArray())
            .GetProperty("connections").EnumerateArray());
        Assert.Equal("127.0.0.1", connection.GetProperty("ip").GetString());
        Assert.True(connection.GetProperty("last_seen").GetInt64() > 0);

        var byAdmin = await OkAsync(Client, HttpMethod.Get, $"{V3}/admin/whois/{Uri.EscapeDataString(user.UserId)}", admin.AccessToken);
        Assert.Equal([user.DeviceId], byAdmin.GetProperty("devices").EnumerateObject().Select(d => d.Name));
        // Legacy r0 path as well.
        await OkAsync(Client, HttpMethod.Get, $"/_matrix/client/r0/admin/whois/{Uri.EscapeDataString(user.UserId)}", user.AccessToken);

        await FailsAsync(Client, HttpMethod.Get, $"{V3}/admin/whois/{Uri.EscapeDataString(other.UserId)}", user.AccessToken, null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/admin/whois/{Uri.EscapeDataString("@nobody-here:localhost")}", admin.AccessToken, null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/admin/whois/not-a-user-id", admin.AccessToken, null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await FailsAsync(Client, HttpMethod.Get, $"{V3}/admin/whois/{Uri.EscapeDataString(user.UserId)}", null, null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }
}
