using System.Net;
using System.Net.Http.Headers;
using HomeServer.Server.Tests.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Security;

/// <summary>
/// With every log category at Trace, the server writes no access token and no password anywhere: not the hosting
/// layer's request lines (the query string may carry <c>access_token</c>), not Kestrel's, not ours.
/// </summary>
public sealed class SecretsInLogsTests
{
    private const string OldPassword = "old-password-5f1c9e2a";
    private const string NewPassword = "new-password-7d3b8a41";

    [Fact]
    public async Task Register_login_password_change_and_sync_log_no_token_or_password_at_trace()
    {
        await using var server = await RunningServer.StartAsync([
            .. AccountsServerFixture.TestArguments,
            "--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Trace", "--Logging:LogLevel:Orleans=Trace",
        ]);
        var client = server.Client;
        var username = NewUsername("secret");
        var registered = await client.RegisterAsync(username, OldPassword);
        var loggedIn = await client.LogInAsync(username, OldPassword);
        using (var wrongPassword = await client.PostAsync($"{V3}/login", Json(new { type = "m.login.password", user = username, password = NewPassword + "x" })))
            Assert.Equal(HttpStatusCode.Forbidden, wrongPassword.StatusCode);

        using (var change = await client.PostAsync($"{V3}/account/password",
                   Json(new { new_password = NewPassword, logout_devices = false, auth = PasswordAuth(null, username, OldPassword) }), registered.AccessToken))
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);

        using (var headerSync = await client.GetAsync($"{V3}/sync?timeout=0", registered.AccessToken))
            Assert.Equal(HttpStatusCode.OK, headerSync.StatusCode);
        using (var querySync = await client.GetAsync($"{V3}/sync?timeout=0&access_token={Uri.EscapeDataString(loggedIn.AccessToken)}"))
            Assert.Equal(HttpStatusCode.OK, querySync.StatusCode);
        const string unknownToken = "mat_QHVua25vd246bG9jYWxob3N0_bm90LWEtcmVhbC10b2tlbi1idXQtd2VsbC1mb3JtZWQx";
        using (var badQuery = await client.GetAsync($"{V3}/account/whoami?access_token={unknownToken}"))
            Assert.Equal(HttpStatusCode.Unauthorized, badQuery.StatusCode);
        using (var badJson = new HttpRequestMessage(HttpMethod.Post, $"{V3}/login?access_token={unknownToken}")
               { Content = new StringContent($"{{\"password\":\"{NewPassword}\",") })
        {
            badJson.Headers.Authorization = new AuthenticationHeaderValue("Bearer", loggedIn.AccessToken);
            using var response = await client.SendAsync(badJson);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        var logs = server.Logs.Entries.ToArray();
        Assert.Contains(logs, entry => entry.Level <= Microsoft.Extensions.Logging.LogLevel.Debug);
        string[] secrets = [OldPassword, NewPassword, registered.AccessToken, loggedIn.AccessToken, unknownToken];
        foreach (var secret in secrets)
        {
            var leaks = logs.Where(entry => entry.Message.Contains(secret, StringComparison.Ordinal)
                || entry.Exception?.ToString().Contains(secret, StringComparison.Ordinal) == true).ToArray();
            Assert.True(leaks.Length == 0,
                $"{leaks.Length} log entries hold a secret, e.g. [{leaks.FirstOrDefault()?.Category}] {leaks.FirstOrDefault()?.Message}");
        }
    }
}
