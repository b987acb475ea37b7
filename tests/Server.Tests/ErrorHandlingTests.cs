using System.Net;
using System.Text;
using HomeServer.Gateway.Json;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace HomeServer.Server.Tests;

/// <summary>No real endpoint takes a body or fails yet, so these map test-only endpoints on the real server.</summary>
public sealed class ErrorHandlingTests
{
    private const string SecretDetail = "connection string Password=hunter2";

    [Fact]
    public async Task Unhandled_exception_is_500_unknown_without_details_and_is_logged()
    {
        await using var server = await RunningServer.StartAsync(configure: app =>
            app.MapGet("/_matrix/client/v3/test/throw", string () => throw new InvalidOperationException(SecretDetail)));

        using var response = await server.Client.GetAsync("/_matrix/client/v3/test/throw");

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("""{"errcode":"M_UNKNOWN","error":"Internal server error"}""", text);
        CorsTests.AssertCorsHeaders(response);
        var logged = Assert.Single(server.Logs.Entries, entry => entry.Level == LogLevel.Error);
        Assert.Equal(SecretDetail, logged.Exception?.Message);
    }

    [Theory]
    [InlineData("{\"text\":", "M_NOT_JSON")]
    [InlineData("not json", "M_NOT_JSON")]
    [InlineData("{\"text\":42}", "M_BAD_JSON")]
    [InlineData("{}", "M_BAD_JSON")]
    public async Task Bad_bodies_are_400_with_the_matrix_code(string body, string errcode)
    {
        await using var server = await StartWithEchoAsync();

        using var response = await server.Client.PostAsync("/_matrix/client/v3/test/echo", Json(body));

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, errcode);
    }

    [Fact]
    public async Task Body_within_the_limit_is_read()
    {
        await using var server = await StartWithEchoAsync();

        using var response = await server.Client.PostAsync("/_matrix/client/v3/test/echo", Json("""{"text":"hello"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Body_over_the_limit_is_413_too_large()
    {
        await using var server = await StartWithEchoAsync();

        using var response = await server.Client.PostAsync("/_matrix/client/v3/test/echo", Json(BodyOfLength(4000)));

        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
    }

    [Fact]
    public async Task Endpoint_may_declare_a_larger_limit_than_the_gateway_default()
    {
        await using var server = await StartWithEchoAsync();

        using var response = await server.Client.PostAsync("/_matrix/client/v3/test/echo_large", Json(BodyOfLength(4000)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Task<RunningServer> StartWithEchoAsync() =>
        RunningServer.StartAsync(["--MaxRequestBodyBytes=1024"], app =>
        {
            app.MapPost("/_matrix/client/v3/test/echo", Echo);
            app.MapPost("/_matrix/client/v3/test/echo_large", Echo).WithMetadata(new RequestSizeLimitAttribute(8192));
        });

    private static async Task<string> Echo(HttpRequest request) =>
        (await request.ReadMatrixJsonAsync(TestJsonContext.Default.EchoRequest)).Text;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string BodyOfLength(int length) => $$"""{"text":"{{new string('a', length - 11)}}"}""";
}
