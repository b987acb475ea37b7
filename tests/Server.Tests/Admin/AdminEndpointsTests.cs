using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HomeServer.Server.Tests.Admin;

public sealed class AdminEndpointsTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, TestUser? user)
    {
        using var request = new HttpRequestMessage(method, path);
        if (user is not null) request.Headers.Authorization = new("Bearer", user.AccessToken);
        return await _server.Client.SendAsync(request);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errcode)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(errcode, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errcode").GetString());
    }

    [Fact]
    public async Task Only_admins_may_list_or_drain_silos()
    {
        var user = await TestUsers.CreateAsync(_server, "plain");
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "/_homeserver/admin/silos", null), HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "/_homeserver/admin/silos", user), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await AssertErrorAsync(await SendAsync(HttpMethod.Post, "/_homeserver/admin/silos/x/drain", user), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.False(_server.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
    }

    [Fact]
    public async Task An_admin_lists_the_silos_and_a_drain_of_an_unknown_silo_is_not_found()
    {
        var admin = await TestUsers.CreateAsync(_server, "admin", isAdmin: true);
        var list = await SendAsync(HttpMethod.Get, "/_homeserver/admin/silos", admin);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var silo = Assert.Single((await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());

        var unknown = Uri.EscapeDataString("127.0.0.1:1@1");
        await AssertErrorAsync(await SendAsync(HttpMethod.Post, $"/_homeserver/admin/silos/{unknown}/drain", admin), HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Draining_the_silo_stops_the_server_as_sigterm_would()
    {
        var admin = await TestUsers.CreateAsync(_server, "admin", isAdmin: true);
        var silos = await (await SendAsync(HttpMethod.Get, "/_homeserver/admin/silos", admin)).Content.ReadFromJsonAsync<JsonElement>();
        var id = silos.GetProperty("silos")[0].GetProperty("id").GetString()!;
        var stopping = _server.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        var drain = await SendAsync(HttpMethod.Post, $"/_homeserver/admin/silos/{Uri.EscapeDataString(id)}/drain", admin);

        Assert.Equal(HttpStatusCode.Accepted, drain.StatusCode);
        Assert.Equal(id, (await drain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("draining").GetString());
        await Task.Delay(TimeSpan.FromSeconds(5), stopping).ContinueWith(_ => { });
        Assert.True(stopping.IsCancellationRequested);
    }
}
