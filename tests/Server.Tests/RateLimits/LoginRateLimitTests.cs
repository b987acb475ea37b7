using System.Diagnostics;
using System.Net;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Server.Tests.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;
using static HomeServer.Server.Tests.RateLimits.RateLimitTestServer;

namespace HomeServer.Server.Tests.RateLimits;

/// <summary>A server with tight login buckets per account and per address, shared by tests that each use their own accounts and address.</summary>
public sealed class TightLoginServer : IAsyncLifetime
{
    public const int AccountBurst = 3;
    public const int AddressBurst = 4;
    public const int FailedBurst = 2;

    private RunningServer? _server;

    public HttpClient Client => (_server ?? throw new InvalidOperationException("not started")).Client;

    public async Task InitializeAsync() => _server = await StartAsync([
        ForwardedClient.TrustLoopback,
        .. Tight(RateLimitBucket.LoginAccount, AccountBurst),
        .. Tight(RateLimitBucket.LoginAddress, AddressBurst),
        .. Tight(RateLimitBucket.LoginFailedAttempts, FailedBurst)]);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>Login attempts per account, failed attempts per account (kept across restarts) and attempts per client address.</summary>
public sealed class LoginRateLimitTests(TightLoginServer tight) : IClassFixture<TightLoginServer>
{
    [Fact]
    public async Task Wrong_passwords_are_slowed_to_the_failed_attempt_rate_and_the_right_one_works_after_the_indicated_wait()
    {
        const int burst = 3;
        const double perSecond = 2;
        await using var server = await StartAsync(Tight(RateLimitBucket.LoginFailedAttempts, burst, perSecond));
        var username = NewUsername();
        await server.Client.RegisterAsync(username);

        var forbidden = 0;
        long lastRetryAfterMs = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 30; i++)
        {
            using var response = await server.Client.LogInRawAsync(username, "not the password");
            if (response.StatusCode == HttpStatusCode.Forbidden) forbidden++;
            else lastRetryAfterMs = await response.AssertLimitExceededAsync();
        }
        clock.Stop();

        // The burst, plus what the bucket regained while the attempts ran (one more for the fraction the first one found).
        var allowed = burst + (int)Math.Ceiling(clock.Elapsed.TotalSeconds * perSecond) + 1;
        Assert.InRange(forbidden, burst, allowed);
        Assert.True(forbidden < 30, "some attempts must have been refused");
        Assert.InRange(lastRetryAfterMs, 1, (long)Math.Ceiling(1000 / perSecond));

        // A client waits as told and asks again. The per-address bucket refills on a timer, which a loaded machine can
        // fire a little late: a second short refusal may come, but never a long one, and the password then works.
        await Task.Delay(TimeSpan.FromMilliseconds(lastRetryAfterMs));
        for (var attempt = 1; ; attempt++)
        {
            using var right = await server.Client.LogInRawAsync(username, Password);
            if (right.StatusCode != HttpStatusCode.TooManyRequests || attempt == 3)
            {
                await right.AssertOkAsync();
                break;
            }
            var again = await right.AssertLimitExceededAsync();
            Assert.InRange(again, 1, (long)Math.Ceiling(1000 / perSecond));
            await Task.Delay(TimeSpan.FromMilliseconds(again));
        }
    }

    [Fact]
    public async Task The_failed_attempts_of_an_account_are_remembered_across_a_restart()
    {
        await using var first = await StartAsync(Tight(RateLimitBucket.LoginFailedAttempts, burst: 2));
        var username = NewUsername();
        await first.Client.RegisterAsync(username);
        for (var i = 0; i < 2; i++)
        {
            using var wrong = await first.Client.LogInRawAsync(username, "not the password");
            Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        }
        using (var refused = await first.Client.LogInRawAsync(username, Password)) await refused.AssertLimitExceededAsync();

        await using var restarted = await first.RestartAsync();

        using var stillRefused = await restarted.Client.LogInRawAsync(username, Password);
        await stillRefused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Logins_per_account_stop_after_the_burst_and_other_accounts_are_not_affected()
    {
        var alice = NewUsername("alice");
        var bob = NewUsername("bob");
        await tight.Client.RegisterAsync(alice);
        await tight.Client.RegisterAsync(bob);

        for (var i = 0; i < TightLoginServer.AccountBurst; i++)
        {
            using var allowed = await LogInFromAsync(ForwardedClient.NewAddress(), alice, Password);
            await allowed.AssertOkAsync();
        }
        using var refused = await LogInFromAsync(ForwardedClient.NewAddress(), alice, Password);
        await refused.AssertLimitExceededAsync();
        using var other = await LogInFromAsync(ForwardedClient.NewAddress(), bob, Password);
        await other.AssertOkAsync();
    }

    [Fact]
    public async Task A_failed_login_costs_an_address_two_tokens_and_a_successful_one_costs_one()
    {
        var address = ForwardedClient.NewAddress();
        for (var i = 0; i < TightLoginServer.AddressBurst / 2; i++)
        {
            using var wrong = await LogInFromAsync(address, NewUsername("nobody"), "whatever password");
            Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        }
        using var refused = await LogInFromAsync(address, NewUsername("nobody"), "whatever password");
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Successful_logins_from_one_address_stop_after_the_burst()
    {
        var address = ForwardedClient.NewAddress();
        var usernames = Enumerable.Range(0, TightLoginServer.AddressBurst + 1).Select(_ => NewUsername()).ToList();
        // Registration logs in without counting as a login attempt.
        foreach (var username in usernames) await tight.Client.RegisterAsync(username);

        for (var i = 0; i < TightLoginServer.AddressBurst; i++)
        {
            using var allowed = await LogInFromAsync(address, usernames[i], Password);
            await allowed.AssertOkAsync();
        }
        using var refused = await LogInFromAsync(address, usernames[^1], Password);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Unknown_user_ids_are_counted_like_accounts()
    {
        var nobody = NewUsername("nobody");
        for (var i = 0; i < TightLoginServer.FailedBurst; i++)
        {
            using var wrong = await LogInFromAsync(ForwardedClient.NewAddress(), nobody, "whatever password");
            Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        }
        using var refused = await LogInFromAsync(ForwardedClient.NewAddress(), nobody, "whatever password");
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Wrong_current_passwords_in_user_interactive_auth_count_as_failed_attempts()
    {
        var username = NewUsername();
        var user = await tight.Client.RegisterAsync(username);
        for (var i = 0; i < TightLoginServer.FailedBurst; i++)
        {
            using var wrong = await tight.Client.PostAsync($"{V3}/account/password",
                Json(new { new_password = "another long password", auth = PasswordAuth(null, username, "not the password") }), user.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var refused = await tight.Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = "another long password", auth = PasswordAuth(null, username) }), user.AccessToken);
        await refused.AssertLimitExceededAsync();
        using var login = await LogInFromAsync(ForwardedClient.NewAddress(), username, Password);
        await login.AssertLimitExceededAsync();
    }

    private Task<HttpResponseMessage> LogInFromAsync(string address, string user, string password) =>
        tight.Client.SendFromAsync(address, HttpMethod.Post, $"{V3}/login",
            Json(new { type = "m.login.password", identifier = new { type = "m.id.user", user }, password }));
}
