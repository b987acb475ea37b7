using System.Net;
using System.Text;
using System.Text.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.RateLimits;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>The failed-login limit of an account is one count for every gateway process, not one per gateway.</summary>
public sealed class ClusterRateLimitTests : IAsyncLifetime
{
    private const int FailedBurst = 3;

    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("limits.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Wrong_passwords_sent_through_two_gateways_share_the_account_bucket()
    {
        var tight = RateLimitArguments.Bucket(RateLimitBucket.LoginFailedAttempts, 0.0001, FailedBurst);
        await _cluster.StartAsync(tight);
        var (_, first) = await _cluster.StartAsync(["--Cluster:Role=gateway", .. tight]);
        var (_, second) = await _cluster.StartAsync(["--Cluster:Role=gateway", .. tight]);
        await ProcessCluster.RetryWhileUnavailableAsync(() => ProcessCluster.RegisterAsync(first, "guarded"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < FailedBurst + 2; i++)
        {
            using var response = await LogInAsync(i % 2 == 0 ? first : second, "not the password");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Forbidden, FailedBurst), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        using var right = await LogInAsync(second, "correct horse");
        await right.AssertLimitExceededAsync();
    }

    private static Task<HttpResponseMessage> LogInAsync(HttpClient gateway, string password) =>
        gateway.PostAsync("/_matrix/client/v3/login", new StringContent(
            JsonSerializer.Serialize(new { type = "m.login.password", identifier = new { type = "m.id.user", user = "guarded" }, password }),
            Encoding.UTF8, "application/json"));
}
