using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>A user with an access token, as a client would hold after logging in.</summary>
public sealed record TestUser(string UserId, string DeviceId, string AccessToken);

/// <summary>
/// Seeds accounts and access tokens straight into the running server's store, standing in for /register until that
/// endpoint exists. Everything else the tests do goes through HTTP.
/// </summary>
public static class TestUsers
{
    /// <summary>A new user with a unique localpart starting with <paramref name="name"/>.</summary>
    public static async Task<TestUser> CreateAsync(RunningServer server, string name, string? displayName = null, bool isAdmin = false)
    {
        var store = server.App.Services.GetRequiredService<IHomeServerStore>();
        var local = server.App.Services.GetRequiredService<LocalServer>();
        var userId = local.UserId($"{name.ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..10]}");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.True(await store.Accounts.CreateAccountAsync(new NewAccount(userId, null, now, isAdmin), CancellationToken.None));
        if (displayName is not null) await store.Accounts.SetDisplayNameAsync(userId, displayName, CancellationToken.None);
        var token = AccessTokens.Create(userId);
        Assert.True(await store.Devices.IssueAccessTokenAsync(new NewAccessToken(userId, "TESTDEVICE", token, now), CancellationToken.None));
        return new TestUser(userId, "TESTDEVICE", token);
    }

    /// <summary>A second device (and token) of an existing user.</summary>
    public static async Task<TestUser> AddDeviceAsync(RunningServer server, TestUser user, string deviceId)
    {
        var store = server.App.Services.GetRequiredService<IHomeServerStore>();
        var token = AccessTokens.Create(user.UserId);
        Assert.True(await store.Devices.IssueAccessTokenAsync(
            new NewAccessToken(user.UserId, deviceId, token, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), CancellationToken.None));
        return user with { DeviceId = deviceId, AccessToken = token };
    }
}
