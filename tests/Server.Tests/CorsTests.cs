using System.Net;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

public sealed class CorsTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>
{
    [Fact]
    public async Task Preflight_is_answered_with_the_spec_headers()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/_matrix/client/v3/login");
        request.Headers.Add("Origin", "https://app.example.org");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");

        using var response = await fixture.Server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        AssertCorsHeaders(response);
    }

    [Theory]
    [InlineData("/_matrix/client/versions")]
    [InlineData("/.well-known/matrix/client")]
    [InlineData("/_matrix/client/v3/no_such_endpoint")]
    public async Task Every_response_carries_the_cors_headers(string path)
    {
        using var response = await fixture.Server.Client.GetAsync(path);

        AssertCorsHeaders(response);
    }

    internal static void AssertCorsHeaders(HttpResponseMessage response)
    {
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("GET, POST, PUT, DELETE, OPTIONS", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Equal("X-Requested-With, Content-Type, Authorization", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")));
    }
}
