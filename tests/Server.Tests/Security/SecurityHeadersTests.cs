using System.Net;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Security;

/// <summary>Every answer the server writes carries <c>X-Content-Type-Options: nosniff</c> and the spec's CORS headers.</summary>
public sealed class SecurityHeadersTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>
{
    [Theory]
    [InlineData("GET", "/_matrix/client/versions", null, HttpStatusCode.OK)]
    [InlineData("GET", "/.well-known/matrix/client", null, HttpStatusCode.OK)]
    [InlineData("GET", "/_matrix/client/v3/account/whoami", null, HttpStatusCode.Unauthorized)]
    [InlineData("POST", "/_matrix/client/v3/login", "{", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/_matrix/client/v3/nothing_here", null, HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/_matrix/client/versions", null, HttpStatusCode.MethodNotAllowed)]
    [InlineData("OPTIONS", "/_matrix/client/v3/sync", null, HttpStatusCode.NoContent)]
    [InlineData("GET", "/health/live", null, HttpStatusCode.OK)]
    public async Task Every_response_carries_nosniff_and_the_cors_headers(string method, string path, string? body, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await fixture.Server.Client.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        CorsTests.AssertCorsHeaders(response);
    }

    [Fact]
    public async Task A_too_large_body_answer_carries_them_too()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_matrix/client/v3/login")
        {
            Content = new StringContent($"{{\"password\":\"{new string('x', 20_000)}\"}}", Encoding.UTF8, "application/json"),
        };
        using var response = await fixture.Server.Client.SendAsync(request);

        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        CorsTests.AssertCorsHeaders(response);
    }
}
