using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteProfileTests(SqliteAccountsServer server) : ProfileTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresProfileTests(PostgresAccountsServer server) : ProfileTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>/profile/{userId} and its displayname and avatar_url fields.</summary>
public abstract class ProfileTests(AccountsServerFixture server)
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task A_new_account_is_named_after_its_localpart_and_has_no_avatar()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.GetAsync($"{V3}/profile/{user.UserId}", token: null);

        var body = await response.OkJsonAsync();
        Assert.Equal(user.Localpart, body.GetProperty("displayname").GetString());
        Assert.False(body.TryGetProperty("avatar_url", out _));
    }

    [Fact]
    public async Task The_user_sets_reads_and_deletes_fields()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var setName = await Client.PutAsync($"{V3}/profile/{user.UserId}/displayname", Json(new { displayname = "Alice Margatroid" }), user.AccessToken);
        using var setAvatar = await Client.PutAsync($"{V3}/profile/{user.UserId}/avatar_url", Json(new { avatar_url = "mxc://localhost/SDGdghriugerRg" }), user.AccessToken);
        await setName.OkJsonAsync();
        await setAvatar.OkJsonAsync();

        using var profile = await Client.GetAsync($"{V3}/profile/{Uri.EscapeDataString(user.UserId)}", token: null);
        using var name = await Client.GetAsync($"{V3}/profile/{user.UserId}/displayname", token: null);
        using var avatar = await Client.GetAsync($"{V3}/profile/{user.UserId}/avatar_url", token: null);
        var body = await profile.OkJsonAsync();
        Assert.Equal("Alice Margatroid", body.GetProperty("displayname").GetString());
        Assert.Equal("mxc://localhost/SDGdghriugerRg", body.GetProperty("avatar_url").GetString());
        Assert.Equal("""{"displayname":"Alice Margatroid"}""", await name.Content.ReadAsStringAsync());
        Assert.Equal("""{"avatar_url":"mxc://localhost/SDGdghriugerRg"}""", await avatar.Content.ReadAsStringAsync());

        using var delete = await Client.DeleteAsync($"{V3}/profile/{user.UserId}/avatar_url", body: null, user.AccessToken);
        using var clear = await Client.PutAsync($"{V3}/profile/{user.UserId}/displayname", Json(new { displayname = "" }), user.AccessToken);
        await delete.OkJsonAsync();
        await clear.OkJsonAsync();
        using var deletedAvatar = await Client.GetAsync($"{V3}/profile/{user.UserId}/avatar_url", token: null);
        using var clearedName = await Client.GetAsync($"{V3}/profile/{user.UserId}/displayname", token: null);
        using var empty = await Client.GetAsync($"{V3}/profile/{user.UserId}", token: null);
        await deletedAvatar.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        await clearedName.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal("{}", await empty.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("@nobody-at-all:localhost", HttpStatusCode.NotFound, "M_NOT_FOUND")]
    // Another server's user: that server is asked (docs/adr/0033), and one that cannot be reached is 502.
    [InlineData("@someone:elsewhere.example", HttpStatusCode.BadGateway, "M_UNKNOWN")]
    [InlineData("not-a-user-id", HttpStatusCode.BadRequest, "M_INVALID_PARAM")]
    public async Task Profiles_of_unknown_remote_or_invalid_users_are_refused(string userId, HttpStatusCode status, string errcode)
    {
        using var profile = await Client.GetAsync($"{V3}/profile/{userId}", token: null);
        using var field = await Client.GetAsync($"{V3}/profile/{userId}/displayname", token: null);

        await profile.AssertErrorAsync(status, errcode);
        await field.AssertErrorAsync(status, errcode);
    }

    [Fact]
    public async Task Fields_this_server_does_not_keep_are_not_found_and_cannot_be_set()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var get = await Client.GetAsync($"{V3}/profile/{user.UserId}/m.tz", token: null);
        using var put = await Client.PutAsync($"{V3}/profile/{user.UserId}/m.tz", Json(new Dictionary<string, string> { ["m.tz"] = "Europe/London" }), user.AccessToken);
        using var invalidKey = await Client.GetAsync($"{V3}/profile/{user.UserId}/NotAKey", token: null);
        using var longKey = await Client.GetAsync($"{V3}/profile/{user.UserId}/a.{new string('b', 260)}", token: null);

        await get.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        await put.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await invalidKey.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await longKey.AssertErrorAsync(HttpStatusCode.BadRequest, "M_KEY_TOO_LARGE");
    }

    [Fact]
    public async Task Only_the_user_changes_their_profile()
    {
        var owner = await Client.RegisterAsync(NewUsername());
        var other = await Client.RegisterAsync(NewUsername());

        using var put = await Client.PutAsync($"{V3}/profile/{owner.UserId}/displayname", Json(new { displayname = "Mallory" }), other.AccessToken);
        using var delete = await Client.DeleteAsync($"{V3}/profile/{owner.UserId}/displayname", body: null, other.AccessToken);
        using var anonymous = await Client.PutAsync($"{V3}/profile/{owner.UserId}/displayname", Json(new { displayname = "Mallory" }));
        using var invalid = await Client.PutAsync($"{V3}/profile/not-a-user/displayname", Json(new { displayname = "Mallory" }), other.AccessToken);

        await put.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await delete.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await invalid.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using var profile = await Client.GetAsync($"{V3}/profile/{owner.UserId}/displayname", token: null);
        Assert.Equal(owner.Localpart, (await profile.OkJsonAsync()).GetProperty("displayname").GetString());
    }

    [Theory]
    [InlineData("displayname", """{"displayname":""", HttpStatusCode.BadRequest, "M_NOT_JSON")]
    [InlineData("displayname", """["Alice"]""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("displayname", """{"displayname":42}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("displayname", """{"displayname":null}""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("displayname", """{"avatar_url":"mxc://a/b"}""", HttpStatusCode.BadRequest, "M_MISSING_PARAM")]
    [InlineData("avatar_url", """{"avatar_url":"https://example.org/a.png"}""", HttpStatusCode.BadRequest, "M_INVALID_PARAM")]
    [InlineData("displayname", """{"displayname":"a\u0000b"}""", HttpStatusCode.BadRequest, "M_INVALID_PARAM")]
    public async Task Bad_values_are_refused_and_change_nothing(string field, string body, HttpStatusCode status, string errcode)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PutAsync($"{V3}/profile/{user.UserId}/{field}", body, user.AccessToken);

        await response.AssertErrorAsync(status, errcode);
        using var profile = await Client.GetAsync($"{V3}/profile/{user.UserId}", token: null);
        Assert.Equal($$"""{"displayname":"{{user.Localpart}}"}""", await profile.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_display_name_over_the_limit_is_refused()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PutAsync($"{V3}/profile/{user.UserId}/displayname", Json(new { displayname = new string('x', 257) }), user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }
}
