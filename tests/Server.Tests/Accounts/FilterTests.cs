using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteFilterTests(SqliteAccountsServer server) : FilterTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresFilterTests(PostgresAccountsServer server) : FilterTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>POST /user/{userId}/filter and GET /user/{userId}/filter/{filterId}.</summary>
public abstract class FilterTests(AccountsServerFixture server)
{
    private const string Filter = """{"room":{"timeline":{"limit":10,"types":["m.room.message"]},"state":{"lazy_load_members":true}},"event_format":"client","org.example.extension":[1]}""";

    private HttpClient Client => server.Client;

    [Fact]
    public async Task An_uploaded_filter_is_returned_as_uploaded_under_a_string_id()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var first = await Client.PostAsync($"{V3}/user/{user.UserId}/filter", Filter, user.AccessToken);
        using var second = await Client.PostAsync($"{V3}/user/{user.UserId}/filter", "{ }", user.AccessToken);

        var firstId = (await first.OkJsonAsync()).GetProperty("filter_id").GetString()!;
        var secondId = (await second.OkJsonAsync()).GetProperty("filter_id").GetString()!;
        Assert.NotEqual(firstId, secondId);
        Assert.DoesNotContain("{", firstId);
        using var read = await Client.GetAsync($"{V3}/user/{user.UserId}/filter/{firstId}", user.AccessToken);
        Assert.Equal(Filter, await read.Content.ReadAsStringAsync());
        using var readSecond = await Client.GetAsync($"{V3}/user/{user.UserId}/filter/{secondId}", user.AccessToken);
        Assert.Equal("{}", await readSecond.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("999999")]
    [InlineData("abc")]
    [InlineData("-1")]
    public async Task Unknown_filters_are_not_found(string filterId)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.GetAsync($"{V3}/user/{user.UserId}/filter/{filterId}", user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Filters_of_other_users_are_forbidden()
    {
        var owner = await Client.RegisterAsync(NewUsername());
        var other = await Client.RegisterAsync(NewUsername());
        using var created = await Client.PostAsync($"{V3}/user/{owner.UserId}/filter", Filter, owner.AccessToken);
        var filterId = (await created.OkJsonAsync()).GetProperty("filter_id").GetString();

        using var read = await Client.GetAsync($"{V3}/user/{owner.UserId}/filter/{filterId}", other.AccessToken);
        using var create = await Client.PostAsync($"{V3}/user/{owner.UserId}/filter", Filter, other.AccessToken);
        using var ownRead = await Client.GetAsync($"{V3}/user/{other.UserId}/filter/{filterId}", other.AccessToken);

        await read.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await create.AssertErrorAsync(HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await ownRead.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Theory]
    [InlineData("""{"room":""", "M_NOT_JSON")]
    [InlineData("""[]""", "M_BAD_JSON")]
    [InlineData("""{"room":1}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"timeline":{"limit":"ten"}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"timeline":{"limit":-1}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"timeline":{"limit":1.5}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"state":{"lazy_load_members":"yes"}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"rooms":"!a:b"}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"include_leave":1}}""", "M_BAD_JSON")]
    [InlineData("""{"event_fields":"type"}""", "M_BAD_JSON")]
    [InlineData("""{"event_fields":[1]}""", "M_BAD_JSON")]
    [InlineData("""{"event_format":1}""", "M_BAD_JSON")]
    [InlineData("""{"event_format":"raw"}""", "M_BAD_JSON")]
    [InlineData("""{"presence":{"types":[1]}}""", "M_BAD_JSON")]
    public async Task Filters_of_the_wrong_shape_are_refused(string body, string errcode)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/user/{user.UserId}/filter", body, user.AccessToken);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
        using var nothing = await Client.GetAsync($"{V3}/user/{user.UserId}/filter/0", user.AccessToken);
        await nothing.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Theory]
    [InlineData("""{"room":{"timeline":{"limit":0}}}""")]
    [InlineData("""{"room":{"timeline":{"limit":0,"org.example.unknown":{"x":[1]}}},"org.example.top":true,"event_format":"federation"}""")]
    [InlineData("""{"event_fields":["type","content.body"],"presence":{"not_types":["*"]},"account_data":{"limit":0}}""")]
    public async Task Limits_of_zero_unknown_keys_and_both_event_formats_are_accepted(string body)
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.PostAsync($"{V3}/user/{user.UserId}/filter", body, user.AccessToken);

        var filterId = (await response.OkJsonAsync()).GetProperty("filter_id").GetString()!;
        using var read = await Client.GetAsync($"{V3}/user/{user.UserId}/filter/{filterId}", user.AccessToken);
        Assert.Equal(body, await read.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Invalid_user_ids_and_missing_tokens_are_refused()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var invalid = await Client.PostAsync($"{V3}/user/nobody/filter", "{}", user.AccessToken);
        using var anonymous = await Client.PostAsync($"{V3}/user/{user.UserId}/filter", "{}");

        await invalid.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }
}
