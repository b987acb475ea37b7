using System.Net;
using System.Text.Json;

namespace HomeServer.Server.Tests.Infrastructure;

public static class MatrixResponse
{
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>Asserts the status and that the body is exactly <c>{"errcode":…,"error":…}</c>.</summary>
    public static async Task AssertErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string errcode, string? error = null)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(errcode, body.GetProperty("errcode").GetString());
        if (error is not null)
        {
            Assert.Equal(error, body.GetProperty("error").GetString());
        }
    }
}
