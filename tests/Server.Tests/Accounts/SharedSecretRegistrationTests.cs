using System.Net;
using System.Security.Cryptography;
using System.Text;
using HomeServer.Grains.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SharedSecretServer : IAsyncLifetime
{
    public const string Secret = "correct-horse-shared-secret";

    public RunningServer Server { get; private set; } = null!;

    // Shared-secret registration works whatever the registration mode.
    public async Task InitializeAsync() =>
        Server = await RunningServer.StartAsync([.. AccountsServerFixture.TestArguments, "--Registration:Mode=disabled", $"--Registration:SharedSecret={Secret}"]);

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>Synapse-compatible shared-secret registration at /_synapse/admin/v1/register.</summary>
public sealed class SharedSecretRegistrationTests(SharedSecretServer fixture) : IClassFixture<SharedSecretServer>
{
    private const string Path = "/_synapse/admin/v1/register";

    private HttpClient Client => fixture.Server.Client;

    /// <summary>The MAC as Synapse's register_new_matrix_user computes it.</summary>
    private static string Mac(string nonce, string username, string password, bool admin, string secret = SharedSecretServer.Secret)
    {
        using var hmac = new HMACSHA1(Encoding.UTF8.GetBytes(secret));
        var message = Encoding.UTF8.GetBytes($"{nonce}\0{username}\0{password}\0{(admin ? "admin" : "notadmin")}");
        return Convert.ToHexString(hmac.ComputeHash(message)).ToLowerInvariant();
    }

    private async Task<string> NonceAsync()
    {
        using var response = await Client.GetAsync(Path, token: null);
        return (await response.OkJsonAsync()).GetProperty("nonce").GetString()!;
    }

    [Fact]
    public async Task An_admin_registers_with_a_valid_mac()
    {
        var username = NewUsername("admin");
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new
        {
            nonce,
            username,
            password = Password,
            admin = true,
            displayname = "The Admin",
            mac = Mac(nonce, username, Password, admin: true),
        }));

        var body = await response.OkJsonAsync();
        var userId = body.GetProperty("user_id").GetString()!;
        var token = body.GetProperty("access_token").GetString()!;
        Assert.Equal($"@{username}:localhost", userId);
        Assert.Equal("localhost", body.GetProperty("home_server").GetString());
        var grains = fixture.Server.App.Services.GetRequiredService<IGrainFactory>();
        var session = await grains.GetGrain<IUserGrain>(userId).AuthenticateAsync(token);
        Assert.True(session!.IsAdmin);
        using var profile = await Client.GetAsync($"{V3}/profile/{userId}/displayname", token: null);
        Assert.Equal("The Admin", (await profile.OkJsonAsync()).GetProperty("displayname").GetString());
        Assert.Equal(userId, (await Client.LogInAsync(username)).UserId);
    }

    [Fact]
    public async Task A_user_registers_without_admin_and_the_username_is_lowered()
    {
        var username = NewUsername("Plain");
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new { nonce, username, password = Password, mac = Mac(nonce, username, Password, admin: false) }));

        var body = await response.OkJsonAsync();
        var userId = body.GetProperty("user_id").GetString()!;
        Assert.Equal($"@{username.ToLowerInvariant()}:localhost", userId);
        var grains = fixture.Server.App.Services.GetRequiredService<IGrainFactory>();
        Assert.False((await grains.GetGrain<IUserGrain>(userId).AuthenticateAsync(body.GetProperty("access_token").GetString()!))!.IsAdmin);
    }

    [Fact]
    public async Task A_wrong_mac_is_forbidden_and_uses_up_the_nonce()
    {
        var username = NewUsername();
        var nonce = await NonceAsync();

        using var wrongSecret = await Client.PostAsync(Path, Json(new { nonce, username, password = Password, mac = Mac(nonce, username, Password, false, "guess") }));
        using var retry = await Client.PostAsync(Path, Json(new { nonce, username, password = Password, mac = Mac(nonce, username, Password, false) }));

        await wrongSecret.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN", "HMAC incorrect");
        await retry.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN", "unrecognised nonce");
    }

    [Fact]
    public async Task The_mac_covers_the_admin_flag()
    {
        var username = NewUsername();
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new { nonce, username, password = Password, admin = true, mac = Mac(nonce, username, Password, admin: false) }));

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task A_nonce_registers_once()
    {
        var nonce = await NonceAsync();
        var first = NewUsername();
        var second = NewUsername();
        using var ok = await Client.PostAsync(Path, Json(new { nonce, username = first, password = Password, mac = Mac(nonce, first, Password, false) }));
        await ok.OkJsonAsync();

        using var again = await Client.PostAsync(Path, Json(new { nonce, username = second, password = Password, mac = Mac(nonce, second, Password, false) }));

        await again.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN", "unrecognised nonce");
    }

    [Theory]
    [InlineData("""{"username":"a","password":"b","mac":"c"}""", "M_BAD_JSON", "nonce must be specified")]
    [InlineData("""{"nonce":"NoSuchNonceOfThirtyTwoCharacters","username":"a","password":"b","mac":"c"}""", "M_UNKNOWN", "unrecognised nonce")]
    [InlineData("""{"nonce":"x","username":"a","password":"b","mac":"c"}""", "M_UNKNOWN", "unrecognised nonce")]
    [InlineData("""{"nonce":""", "M_NOT_JSON", null)]
    [InlineData("""{"nonce":1}""", "M_BAD_JSON", null)]
    public async Task Bad_requests_are_refused(string body, string errcode, string? error)
    {
        using var response = await Client.PostAsync(Path, body);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode, error);
    }

    [Theory]
    [InlineData(null, "a", "c", "M_BAD_JSON", "username must be specified")]
    [InlineData("a", null, "c", "M_BAD_JSON", "password must be specified")]
    [InlineData("a", "b", null, "M_BAD_JSON", "mac must be specified")]
    [InlineData("a\u0000b", "b", "c", "M_UNKNOWN", "Invalid username")]
    [InlineData("a", "b\u0000", "c", "M_UNKNOWN", "Invalid password")]
    public async Task Missing_or_invalid_fields_are_refused_after_the_nonce(string? username, string? password, string? mac, string errcode, string error)
    {
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new { nonce, username, password, mac }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode, error);
    }

    [Theory]
    [InlineData("not valid", "M_INVALID_USERNAME")]
    [InlineData("", "M_INVALID_USERNAME")]
    public async Task Usernames_follow_the_user_id_grammar(string username, string errcode)
    {
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new { nonce, username, password = Password, mac = Mac(nonce, username, Password, false) }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
    }

    [Fact]
    public async Task A_taken_username_is_refused()
    {
        var user = await RegisterAsync(NewUsername());
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new { nonce, username = user, password = Password, mac = Mac(nonce, user, Password, false) }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_USER_IN_USE");
    }

    [Fact]
    public async Task User_types_are_refused()
    {
        var nonce = await NonceAsync();

        using var response = await Client.PostAsync(Path, Json(new { nonce, username = "bot", password = Password, user_type = "bot", mac = "x" }));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN", "Invalid user type");
    }

    [Fact]
    public async Task Without_a_shared_secret_the_api_is_disabled()
    {
        await using var server = await RunningServer.StartAsync(AccountsServerFixture.TestArguments);

        using var get = await server.Client.GetAsync(Path, token: null);
        using var post = await server.Client.PostAsync(Path, "{}");

        await get.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN", "Shared secret registration is not enabled");
        await post.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN", "Shared secret registration is not enabled");
    }

    private async Task<string> RegisterAsync(string username)
    {
        var nonce = await NonceAsync();
        using var response = await Client.PostAsync(Path, Json(new { nonce, username, password = Password, mac = Mac(nonce, username, Password, false) }));
        await response.OkJsonAsync();
        return username;
    }
}
