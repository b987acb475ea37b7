using System.Net;
using HomeServer.Gateway.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

/// <summary>A server whose password policy asks for every character class and ten characters.</summary>
public sealed class StrictPasswordServer : IAsyncLifetime
{
    private RunningServer? _server;

    public HttpClient Client => (_server ?? throw new InvalidOperationException("not started")).Client;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync([
        .. AccountsServerFixture.TestArguments, "--PasswordPolicy:MinimumLength=10", "--PasswordPolicy:RequireDigit=true",
        "--PasswordPolicy:RequireLowercase=true", "--PasswordPolicy:RequireUppercase=true", "--PasswordPolicy:RequireSymbol=true"]);

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>PasswordPolicy on registration and password change: 400 M_WEAK_PASSWORD, nothing changed.</summary>
public sealed class PasswordPolicyTests(StrictPasswordServer server) : IClassFixture<StrictPasswordServer>
{
    private const string Strong = "Abcdefgh1!";

    [Fact]
    public async Task The_default_policy_asks_for_eight_characters_and_no_classes()
    {
        var policy = await BuiltServer.OptionsAsync<PasswordPolicyOptions>();
        Assert.Equal(8, policy.MinimumLength);
        Assert.False(policy.RequireDigit || policy.RequireLowercase || policy.RequireUppercase || policy.RequireSymbol);
    }

    [Theory]
    [InlineData("Abcdefg1!", "at least 10 characters")]
    [InlineData("Abcdefghi!", "digit")]
    [InlineData("ABCDEFGH1!", "lowercase")]
    [InlineData("abcdefgh1!", "uppercase")]
    [InlineData("Abcdefghi1", "symbol")]
    public async Task Registration_with_a_weak_password_is_refused_and_creates_nothing(string password, string reason)
    {
        var username = NewUsername();
        using var response = await server.Client.PostAsync($"{V3}/register", Json(new { username, password, auth = new { type = "m.login.dummy" } }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("M_WEAK_PASSWORD", body);
        Assert.Contains(reason, body);
        Assert.True(await server.Client.IsUsernameAvailableAsync(username));
    }

    [Fact]
    public async Task A_password_meeting_the_policy_exactly_is_accepted()
    {
        var username = NewUsername();
        await server.Client.RegisterAsync(username, Strong);
        await server.Client.LogInAsync(username, Strong);
    }

    [Fact]
    public async Task Characters_are_counted_as_the_user_sees_them()
    {
        // Nine characters, one of them outside the Basic Multilingual Plane (two UTF-16 code units).
        using var response = await server.Client.PostAsync($"{V3}/register",
            Json(new { username = NewUsername(), password = "Abcdef1!\U0001F600", auth = new { type = "m.login.dummy" } }));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_WEAK_PASSWORD");
    }

    [Fact]
    public async Task A_weak_new_password_is_refused_and_the_old_one_still_works()
    {
        var username = NewUsername();
        var user = await server.Client.RegisterAsync(username, Strong);

        using var response = await server.Client.PostAsync($"{V3}/account/password",
            Json(new { new_password = "weakpassword", auth = PasswordAuth(null, username, Strong) }), user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_WEAK_PASSWORD");
        await server.Client.LogInAsync(username, Strong);
    }

    [Fact]
    public async Task Invalid_policy_settings_are_reported() =>
        Assert.Contains(BuiltServer.ConfigurationFailures("--PasswordPolicy:MinimumLength=0"), failure => failure.Contains("PasswordPolicy:MinimumLength"));
}
