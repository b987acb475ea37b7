using System.Net;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

public sealed class DiscoveryTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>
{
    [Fact]
    public async Task Versions_lists_spec_versions_and_no_unstable_features()
    {
        using var response = await fixture.Server.Client.GetAsync("/_matrix/client/versions");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        var versions = body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()).ToArray();
        Assert.Equal(Enumerable.Range(1, 12).Select(minor => $"v1.{minor}"), versions);
        Assert.Empty(body.GetProperty("unstable_features").EnumerateObject());
    }

    [Fact]
    public async Task Well_known_client_announces_the_configured_public_base_url()
    {
        await using var server = await RunningServer.StartAsync(["--PublicBaseUrl=https://matrix.example.org/"]);

        using var response = await server.Client.GetAsync("/.well-known/matrix/client");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal("https://matrix.example.org", body.GetProperty("m.homeserver").GetProperty("base_url").GetString());
    }

    [Fact]
    public async Task Well_known_client_defaults_to_the_listen_url()
    {
        using var response = await fixture.Server.Client.GetAsync("/.well-known/matrix/client");

        var body = await response.ReadJsonAsync();
        Assert.Equal("http://127.0.0.1:0", body.GetProperty("m.homeserver").GetProperty("base_url").GetString());
    }
}
