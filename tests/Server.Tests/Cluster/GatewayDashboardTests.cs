using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>A gateway process, an Orleans client, serves the Orleans Dashboard from the dashboard grains on the silos.</summary>
public sealed class GatewayDashboardTests : IAsyncLifetime
{
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("dashboard.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task An_admin_sees_the_silo_on_the_dashboard_of_a_gateway()
    {
        await _cluster.StartAsync();
        var (_, gateway) = await _cluster.StartAsync("--Cluster:Role=gateway");
        var admin = await ProcessCluster.RetryWhileUnavailableAsync(() => ProcessCluster.RegisterAdminAsync(gateway, "operator"));
        var user = await ProcessCluster.RetryWhileUnavailableAsync(() => ProcessCluster.RegisterAsync(gateway, "plain"));

        async Task<HttpResponseMessage> GetAsync(string path, string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new("Bearer", token);
            return await gateway.SendAsync(request);
        }

        using var page = await GetAsync("/_homeserver/dashboard/", admin);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        // The dashboard collects the silos about every second, so the first answers may list none.
        JsonElement[] hosts;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            var counters = await ProcessCluster.CallAsync(gateway, HttpMethod.Get, "/_homeserver/dashboard/DashboardCounters", admin);
            hosts = counters.GetProperty("hosts").EnumerateArray().ToArray();
            if (hosts.Length == 0) await Task.Delay(200);
        }
        while (hosts.Length == 0 && DateTime.UtcNow < deadline);
        var silo = Assert.Single(hosts);
        Assert.Equal("Active", silo.GetProperty("status").GetString());

        using var refused = await GetAsync("/_homeserver/dashboard/DashboardCounters", user);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("M_FORBIDDEN", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errcode").GetString());
    }
}
