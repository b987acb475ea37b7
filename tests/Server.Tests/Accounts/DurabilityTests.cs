using System.Net;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SqliteDurabilityTests(SqliteAccountsServer server) : DurabilityTests(server), IClassFixture<SqliteAccountsServer>;

public sealed class PostgresDurabilityTests(PostgresAccountsServer server) : DurabilityTests(server), IClassFixture<PostgresAccountsServer>;

/// <summary>What a user set up is still there after the server restarts on the same data.</summary>
public abstract class DurabilityTests(AccountsServerFixture server)
{
    [Fact]
    public async Task Accounts_tokens_devices_profile_account_data_and_filters_survive_a_restart()
    {
        var username = NewUsername();
        var user = await server.Client.RegisterAsync(username, deviceId: "DESKTOP");
        var loggedOut = await server.Client.LogInAsync(username);
        using (var logout = await server.Client.PostAsync($"{V3}/logout", "{}", loggedOut.AccessToken)) await logout.OkJsonAsync();
        using (var name = await server.Client.PutAsync($"{V3}/profile/{user.UserId}/displayname", Json(new { displayname = "Durable" }), user.AccessToken)) await name.OkJsonAsync();
        using (var data = await server.Client.PutAsync($"{V3}/user/{user.UserId}/account_data/org.example.a", """{"kept":true}""", user.AccessToken)) await data.OkJsonAsync();
        string filterId;
        using (var filter = await server.Client.PostAsync($"{V3}/user/{user.UserId}/filter", """{"room":{}}""", user.AccessToken))
            filterId = (await filter.OkJsonAsync()).GetProperty("filter_id").GetString()!;

        await server.RestartAsync();
        var client = server.Client;

        Assert.Equal(HttpStatusCode.OK, await client.WhoAmIStatusAsync(user.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await client.WhoAmIStatusAsync(loggedOut.AccessToken));
        Assert.Equal(user.UserId, (await client.LogInAsync(username)).UserId);
        using var device = await client.GetAsync($"{V3}/devices/DESKTOP", user.AccessToken);
        await device.OkJsonAsync();
        using var profile = await client.GetAsync($"{V3}/profile/{user.UserId}/displayname", token: null);
        Assert.Equal("Durable", (await profile.OkJsonAsync()).GetProperty("displayname").GetString());
        using var accountData = await client.GetAsync($"{V3}/user/{user.UserId}/account_data/org.example.a", user.AccessToken);
        Assert.Equal("""{"kept":true}""", await accountData.Content.ReadAsStringAsync());
        using var storedFilter = await client.GetAsync($"{V3}/user/{user.UserId}/filter/{filterId}", user.AccessToken);
        Assert.Equal("""{"room":{}}""", await storedFilter.Content.ReadAsStringAsync());
        Assert.False(await client.IsUsernameAvailableAsync(username));
    }
}
