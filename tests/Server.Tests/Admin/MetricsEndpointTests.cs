using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Admin;

public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private const string Path = "/_homeserver/admin/metrics";
    private const string Activations = "orleans-catalog-activation-created";

    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpResponseMessage> GetAsync(TestUser? user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Path);
        if (user is not null) request.Headers.Authorization = new("Bearer", user.AccessToken);
        return await _server.Client.SendAsync(request);
    }

    private async Task<JsonElement> CountersAsync(TestUser admin)
    {
        var response = await GetAsync(admin);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("collected_at").GetInt64() > 0);
        return body.GetProperty("counters");
    }

    [Fact]
    public async Task Only_admins_may_read_the_counters()
    {
        var user = await TestUsers.CreateAsync(_server, "plain");

        var anonymous = await GetAsync(null);
        var plain = await GetAsync(user);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        Assert.Equal("M_FORBIDDEN", (await plain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errcode").GetString());
    }

    [Fact]
    public async Task An_admin_sees_the_orleans_counters_move_when_a_room_grain_is_activated()
    {
        var admin = await TestUsers.CreateAsync(_server, "admin", isAdmin: true);
        var before = await CountersAsync(admin);

        await new RoomsClient(_server.Client, admin).CreateRoomAsync();
        var after = await CountersAsync(admin);

        // Other tests in this process activate grains too, so the count grows by at least this room's activation.
        Assert.True(after.GetProperty(Activations).GetDouble() >= before.GetProperty(Activations).GetDouble() + 1);
        Assert.True(after.GetProperty("orleans-catalog-activations").GetDouble() >= 1);
        Assert.All(after.EnumerateObject(), counter =>
            Assert.True(counter.Name.StartsWith("homeserver.", StringComparison.Ordinal) || counter.Name.StartsWith("orleans-", StringComparison.Ordinal), counter.Name));
    }
}
