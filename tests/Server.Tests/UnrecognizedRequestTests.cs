using System.Net;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

public sealed class UnrecognizedRequestTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>
{
    [Theory]
    [InlineData("/_matrix/client/v3/no_such_endpoint")]
    [InlineData("/_matrix/client/versions/extra")]
    [InlineData("/_matrix")]
    public async Task Unknown_matrix_path_is_404_unrecognized(string path)
    {
        using var response = await fixture.Server.Client.GetAsync(path);

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_UNRECOGNIZED", "Unrecognized request");
    }

    [Fact]
    public async Task Known_path_with_wrong_method_is_405_unrecognized()
    {
        using var response = await fixture.Server.Client.PostAsync("/_matrix/client/versions", new StringContent("{}"));

        await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "M_UNRECOGNIZED", "Unrecognized request");
        Assert.Equal(["GET"], response.Content.Headers.Allow);
    }
}
