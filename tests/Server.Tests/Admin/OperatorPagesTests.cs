using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Admin;

/// <summary>
/// The operator pages, for server admins only: the Prometheus scrape endpoint and the Orleans Dashboard, which a browser
/// opens once with ?access_token= and then keeps open with a cookie.
/// </summary>
public sealed class OperatorPagesTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>, IDisposable
{
    private const string Metrics = "/_homeserver/metrics";
    private const string Dashboard = "/_homeserver/dashboard/";
    private const string CookieName = "homeserver_admin_token";

    // Neither follows redirects nor keeps cookies, so that each test sees and sends exactly what it means to.
    private readonly HttpClient _client = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        BaseAddress = fixture.Server.Client.BaseAddress,
    };

    private RunningServer Server => fixture.Server;

    public void Dispose() => _client.Dispose();

    private async Task<HttpResponseMessage> GetAsync(string path, string? bearer = null, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
        if (cookie is not null) request.Headers.Add("Cookie", $"{CookieName}={cookie}");
        return await _client.SendAsync(request);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errcode)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(errcode, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errcode").GetString());
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    /// <summary>Opens the dashboard as a browser would, with ?access_token=, and returns the cookie value it was given.</summary>
    private async Task<string> OpenDashboardAsync(TestUser admin)
    {
        using var response = await GetAsync($"{Dashboard}?access_token={Uri.EscapeDataString(admin.AccessToken)}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(Dashboard, response.Headers.Location?.OriginalString);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries);
        Assert.StartsWith($"{CookieName}=", attributes[0]);
        Assert.Contains("path=/_homeserver/dashboard", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.DoesNotContain("secure", attributes); // plain HTTP here; HTTPS requests get it
        return attributes[0][(CookieName.Length + 1)..];
    }

    [Theory]
    [InlineData(Metrics)]
    [InlineData(Dashboard)]
    [InlineData(Dashboard + "DashboardCounters")]
    public async Task Without_a_token_the_pages_answer_401(string path)
    {
        await AssertErrorAsync(await GetAsync(path), HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    [Theory]
    [InlineData(Metrics)]
    [InlineData(Dashboard)]
    [InlineData(Dashboard + "DashboardCounters")]
    public async Task A_user_who_is_not_an_admin_gets_403_with_a_bearer_token_or_access_token(string path)
    {
        var user = await TestUsers.CreateAsync(Server, "plain");

        await AssertErrorAsync(await GetAsync(path, bearer: user.AccessToken), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await AssertErrorAsync(
            await GetAsync($"{path}?access_token={Uri.EscapeDataString(user.AccessToken)}"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task An_admin_scrapes_the_orleans_and_homeserver_meters()
    {
        var admin = await TestUsers.CreateAsync(Server, "admin", isAdmin: true);
        // A sync records the homeserver's sync counters.
        using (var sync = await GetAsync("/_matrix/client/v3/sync?timeout=0", bearer: admin.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, sync.StatusCode);
        }

        using var response = await GetAsync(Metrics, bearer: admin.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\norleans_", body);
        Assert.Contains("\nhomeserver_sync_", body);

        // The scraper may pass the token as access_token as well; no cookie or redirect for it.
        using var byQuery = await GetAsync($"{Metrics}?access_token={Uri.EscapeDataString(admin.AccessToken)}");
        Assert.Equal(HttpStatusCode.OK, byQuery.StatusCode);
        Assert.False(byQuery.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task An_admin_with_a_bearer_token_gets_the_dashboard_page_and_its_data()
    {
        var admin = await TestUsers.CreateAsync(Server, "admin", isAdmin: true);

        using var page = await GetAsync(Dashboard, bearer: admin.AccessToken);
        using var script = await GetAsync(Dashboard + "index.min.js", bearer: admin.AccessToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("index.min.js", await page.Content.ReadAsStringAsync());
        Assert.False(page.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        var silo = Assert.Single(await DashboardHostsAsync(admin));
        Assert.Equal("Active", silo.GetProperty("status").GetString());
    }

    /// <summary>The silos the dashboard lists; it collects them about every second, so the first answers may have none.</summary>
    private async Task<JsonElement[]> DashboardHostsAsync(TestUser admin)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using var counters = await GetAsync(Dashboard + "DashboardCounters", bearer: admin.AccessToken);
            Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
            var hosts = (await counters.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hosts").EnumerateArray().ToArray();
            if (hosts.Length > 0 || DateTime.UtcNow > deadline) return hosts;
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task An_admin_opening_the_dashboard_with_access_token_gets_a_cookie_that_serves_the_dashboard_only()
    {
        var admin = await TestUsers.CreateAsync(Server, "admin", isAdmin: true);

        var cookie = await OpenDashboardAsync(admin);

        using var page = await GetAsync(Dashboard, cookie: cookie);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        using var counters = await GetAsync(Dashboard + "DashboardCounters", cookie: cookie);
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        // The cookie is no access token anywhere else.
        await AssertErrorAsync(await GetAsync(Metrics, cookie: cookie), HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await AssertErrorAsync(
            await GetAsync("/_matrix/client/v3/account/whoami", cookie: cookie), HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    [Fact]
    public async Task The_redirect_keeps_the_other_query_parameters()
    {
        var admin = await TestUsers.CreateAsync(Server, "admin", isAdmin: true);

        using var response = await GetAsync($"{Dashboard}index.html?theme=dark&access_token={Uri.EscapeDataString(admin.AccessToken)}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{Dashboard}index.html?theme=dark", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_cookie_of_a_user_who_is_not_an_admin_is_refused()
    {
        var user = await TestUsers.CreateAsync(Server, "plain");

        await AssertErrorAsync(await GetAsync(Dashboard, cookie: user.AccessToken), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await AssertErrorAsync(await GetAsync(Dashboard, cookie: "not-a-token"), HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }

    [Fact]
    public async Task After_the_admin_logs_out_the_cookie_is_refused()
    {
        var admin = await TestUsers.CreateAsync(Server, "admin", isAdmin: true);
        var cookie = await OpenDashboardAsync(admin);
        using (var before = await GetAsync(Dashboard, cookie: cookie)) Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        using var logout = new HttpRequestMessage(HttpMethod.Post, "/_matrix/client/v3/logout") { Content = JsonContent.Create(new { }) };
        logout.Headers.Authorization = new("Bearer", admin.AccessToken);
        using (var loggedOut = await _client.SendAsync(logout)) Assert.Equal(HttpStatusCode.OK, loggedOut.StatusCode);

        await AssertErrorAsync(await GetAsync(Dashboard, cookie: cookie), HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
        await AssertErrorAsync(await GetAsync(Dashboard + "DashboardCounters", cookie: cookie), HttpStatusCode.Unauthorized, "M_UNKNOWN_TOKEN");
    }
}
