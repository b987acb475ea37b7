using System.Net;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.RateLimits.RateLimitTestServer;

namespace HomeServer.Server.Tests.RateLimits;

/// <summary>Defaults, validation, admins without exemption, and X-Forwarded-For from a peer that is not a trusted proxy.</summary>
public sealed class RateLimitConfigurationTests
{
    [Fact]
    public async Task The_defaults_are_those_of_Synapse()
    {
        var options = await BuiltServer.OptionsAsync<RateLimitOptions>();

        Assert.True(options.Enabled);
        Assert.True(options.ExemptAdmins);
        Assert.Empty(options.TrustedProxies);
        AssertBucket(0.2, 10, options.Message);
        AssertBucket(0.17, 3, options.Registration);
        AssertBucket(0.17, 3, options.LoginAddress);
        AssertBucket(0.17, 3, options.LoginAccount);
        AssertBucket(0.17, 3, options.LoginFailedAttempts);
        AssertBucket(0.1, 10, options.JoinsLocal);
        AssertBucket(0.3, 10, options.InvitesPerRoom);
        AssertBucket(0.003, 5, options.InvitesPerUser);
        AssertBucket(0.016, 10, options.RoomCreation);
    }

    [Fact]
    public void Invalid_settings_are_reported_together()
    {
        var failures = string.Join("\n", BuiltServer.ConfigurationFailures(
            "--RateLimits:Message:PerSecond=0", "--RateLimits:JoinsLocal:Burst=0", "--RateLimits:ExemptUsers:0=bob",
            "--RateLimits:TrustedProxies:0=not-an-address", "--RateLimits:TrustedProxies:1=10.0.0.0/40"));

        Assert.Contains("RateLimits:Message:PerSecond", failures);
        Assert.Contains("RateLimits:JoinsLocal:Burst", failures);
        Assert.Contains("'bob' is not a user id", failures);
        Assert.Contains("'not-an-address'", failures);
        Assert.Contains("'10.0.0.0/40'", failures);
    }

    [Fact]
    public async Task Without_a_trusted_proxy_X_Forwarded_For_is_ignored_and_admins_are_limited_when_not_exempt()
    {
        await using var server = await StartAsync([
            "--RateLimits:ExemptAdmins=false",
            .. Tight(RateLimitBucket.RegistrationAvailability, burst: 2),
            .. Tight(RateLimitBucket.Message, burst: 2)]);

        for (var i = 0; i < 2; i++)
        {
            using var allowed = await server.Client.SendFromAsync(ForwardedClient.NewAddress(), HttpMethod.Get, "/_matrix/client/v3/register/available?username=someone");
            await allowed.AssertOkAsync();
        }
        using (var refused = await server.Client.SendFromAsync(ForwardedClient.NewAddress(), HttpMethod.Get, "/_matrix/client/v3/register/available?username=someone"))
            await refused.AssertLimitExceededAsync();

        var admin = await TestUsers.CreateAsync(server, "admin", isAdmin: true);
        var room = await server.Client.CreateRoomAsync(admin);
        for (var i = 0; i < 2; i++)
        {
            using var sent = await server.Client.SendMessageAsync(admin, room);
            await sent.AssertOkAsync();
        }
        using var limited = await server.Client.SendMessageAsync(admin, room);
        await limited.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task A_trusted_proxy_names_the_client_and_the_device_is_seen_there()
    {
        await using var server = await StartAsync([ForwardedClient.TrustLoopback, .. Tight(RateLimitBucket.RegistrationAvailability, burst: 1)]);
        using (var first = await server.Client.SendFromAsync("10.1.2.3", HttpMethod.Get, "/_matrix/client/v3/register/available?username=someone")) await first.AssertOkAsync();
        using (var refused = await server.Client.SendFromAsync("10.1.2.3", HttpMethod.Get, "/_matrix/client/v3/register/available?username=someone")) await refused.AssertLimitExceededAsync();
        // Proxies in front of proxies: the trusted hops are skipped, the first untrusted address is the client.
        using (var chained = await server.Client.SendFromAsync("10.4.5.6, 127.0.0.1", HttpMethod.Get, "/_matrix/client/v3/register/available?username=someone")) await chained.AssertOkAsync();
        using (var sameClient = await server.Client.SendFromAsync("10.4.5.6", HttpMethod.Get, "/_matrix/client/v3/register/available?username=someone")) await sameClient.AssertLimitExceededAsync();

        using var registered = await server.Client.SendFromAsync("10.7.8.9", HttpMethod.Post, "/_matrix/client/v3/register",
            Accounts.AccountsApi.Json(new { username = Accounts.AccountsApi.NewUsername(), password = Accounts.AccountsApi.Password, auth = new { type = "m.login.dummy" } }));
        var token = (await Accounts.AccountsApi.OkJsonAsync(registered)).GetProperty("access_token").GetString();
        using var devices = await Accounts.AccountsApi.GetAsync(server.Client, "/_matrix/client/v3/devices", token);
        var device = Assert.Single((await Accounts.AccountsApi.OkJsonAsync(devices)).GetProperty("devices").EnumerateArray());
        Assert.Equal("10.7.8.9", device.GetProperty("last_seen_ip").GetString());
    }

    [Fact]
    public void The_local_cluster_and_bench_raise_every_bucket()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "deploy", "local", "rate-limits.sh"))) directory = directory.Parent;
        var script = File.ReadAllText(Path.Combine(directory.FullName, "deploy", "local", "rate-limits.sh"));

        var listed = System.Text.RegularExpressions.Regex.Match(script, @"for bucket in ([^;]*);").Groups[1].Value
            .Split([' ', '\\', '\n'], StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(Enum.GetNames<RateLimitBucket>().Order(), listed.Order());
    }

    private static void AssertBucket(double perSecond, int burst, TokenBucketOptions bucket)
    {
        Assert.Equal(perSecond, bucket.PerSecond);
        Assert.Equal(burst, bucket.Burst);
    }
}
