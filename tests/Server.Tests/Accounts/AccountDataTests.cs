using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteAccountDataTests(SqliteAccountsServer server) : AccountDataTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresAccountDataTests(PostgresAccountsServer server) : AccountDataTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>Global and per-room account data.</summary>
public abstract class AccountDataTests(AccountsServerFixture server)
{
    private const string RoomId = "!room:localhost";

    private HttpClient Client => server.Client;

    [Fact]
    public async Task Global_and_room_account_data_are_stored_separately_and_replaced()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var global = $"{V3}/user/{user.UserId}/account_data/org.example.settings";
        var room = $"{V3}/user/{user.UserId}/rooms/{RoomId}/account_data/org.example.settings";

        using var putGlobal = await Client.PutAsync(global, """{ "theme": "dark", "n": [1, 2] }""", user.AccessToken);
        using var putRoom = await Client.PutAsync(room, """{"muted":true}""", user.AccessToken);
        using var replace = await Client.PutAsync(global, """{"theme":"light"}""", user.AccessToken);
        await putGlobal.OkJsonAsync();
        await putRoom.OkJsonAsync();
        await replace.OkJsonAsync();

        using var getGlobal = await Client.GetAsync(global, user.AccessToken);
        using var getRoom = await Client.GetAsync(room, user.AccessToken);
        Assert.Equal("""{"theme":"light"}""", await getGlobal.Content.ReadAsStringAsync());
        Assert.Equal("""{"muted":true}""", await getRoom.Content.ReadAsStringAsync());
        Assert.Equal("application/json", getGlobal.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Missing_account_data_is_not_found()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var global = await Client.GetAsync($"{V3}/user/{user.UserId}/account_data/org.example.none", user.AccessToken);
        using var room = await Client.GetAsync($"{V3}/user/{user.UserId}/rooms/{RoomId}/account_data/org.example.none", user.AccessToken);

        await global.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        await room.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Account_data_of_other_users_is_forbidden()
    {
        var owner = await Client.RegisterAsync(NewUsername());
        var other = await Client.RegisterAsync(NewUsername());
        using var put = await Client.PutAsync($"{V3}/user/{owner.UserId}/account_data/org.example.a", """{"x":1}""", owner.AccessToken);
        await put.OkJsonAsync();

        using var read = await Client.GetAsync($"{V3}/user/{owner.UserId}/account_data/org.example.a", other.AccessToken);
        using var write = await Client.PutAsync($"{V3}/user/{owner.UserId}/account_data/org.example.a", """{"x":2}""", other.AccessToken);
        using var roomWrite = await Client.PutAsync($"{V3}/user/{owner.UserId}/rooms/{RoomId}/account_data/org.example.a", """{"x":2}""", other.AccessToken);

        await read.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await write.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await roomWrite.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        using var unchanged = await Client.GetAsync($"{V3}/user/{owner.UserId}/account_data/org.example.a", owner.AccessToken);
        Assert.Equal("""{"x":1}""", await unchanged.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"x":""", HttpStatusCode.BadRequest, "M_NOT_JSON")]
    [InlineData("", HttpStatusCode.BadRequest, "M_NOT_JSON")]
    [InlineData("""[1,2]""", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("\"text\"", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    [InlineData("null", HttpStatusCode.BadRequest, "M_BAD_JSON")]
    public async Task Content_must_be_a_json_object(string body, HttpStatusCode status, string errcode)
    {
        var user = await Client.RegisterAsync(NewUsername());
        var path = $"{V3}/user/{user.UserId}/account_data/org.example.a";

        using var response = await Client.PutAsync(path, body, user.AccessToken);

        await response.AssertErrorAsync(status, errcode);
        using var nothing = await Client.GetAsync(path, user.AccessToken);
        await nothing.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Content_over_64_KiB_is_too_large()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PutAsync($"{V3}/user/{user.UserId}/account_data/org.example.big",
            Json(new { data = new string('x', 70_000) }), user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
    }

    [Theory]
    [InlineData("m.push_rules")]
    [InlineData("m.fully_read")]
    public async Task Server_managed_types_cannot_be_set(string type)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PutAsync($"{V3}/user/{user.UserId}/rooms/{RoomId}/account_data/{type}", "{}", user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "M_BAD_JSON");
    }

    [Theory]
    [InlineData("not-a-room")]
    [InlineData("@user:localhost")]
    public async Task Invalid_room_ids_are_refused(string roomId)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var put = await Client.PutAsync($"{V3}/user/{user.UserId}/rooms/{roomId}/account_data/org.example.a", "{}", user.AccessToken);
        using var get = await Client.GetAsync($"{V3}/user/{user.UserId}/rooms/{roomId}/account_data/org.example.a", user.AccessToken);

        await put.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await get.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Invalid_user_ids_and_missing_tokens_are_refused()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var invalid = await Client.GetAsync($"{V3}/user/alice/account_data/org.example.a", user.AccessToken);
        using var anonymous = await Client.PutAsync($"{V3}/user/{user.UserId}/account_data/org.example.a", "{}");

        await invalid.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }
}
