using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.RoomExtras;

/// <summary>Requests to endpoints under <c>/_matrix/client/v1</c>, which <see cref="RoomsClient"/> (v3) does not reach.</summary>
internal static class ClientV1
{
    /// <summary>Sends (anonymously when <paramref name="user"/> is null) and returns the status and JSON body.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, RoomsClient? user, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, "/_matrix/client/v1" + path);
        if (user is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.User.AccessToken);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> OkAsync(HttpClient http, RoomsClient? user, string path)
    {
        var (status, body) = await SendAsync(http, user, HttpMethod.Get, path);
        Assert.True(status == HttpStatusCode.OK, $"GET {path} answered {(int)status}: {body}");
        return body;
    }

    public static async Task FailsAsync(HttpClient http, RoomsClient? user, string path, HttpStatusCode expected, string errcode)
    {
        var (status, body) = await SendAsync(http, user, HttpMethod.Get, path);
        Assert.True(status == expected, $"GET {path} answered {(int)status}, expected {(int)expected}: {body}");
        Assert.Equal(errcode, body.GetProperty("errcode").GetString());
    }
}
