using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>A user registered through the real /register endpoint, calling the server with its access token.</summary>
public sealed class SyncUser(HttpClient http, string userId, string deviceId, string accessToken)
{
    public string UserId { get; } = userId;
    public string DeviceId { get; } = deviceId;
    public string AccessToken { get; } = accessToken;

    public static async Task<SyncUser> RegisterAsync(RunningServer server, string localpart)
    {
        var body = new JsonObject
        {
            ["username"] = localpart,
            ["password"] = "correct horse battery staple",
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        };
        var response = await server.Client.PostAsJsonAsync("/_matrix/client/v3/register", body);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var flows = await response.ReadJsonAsync();
            body["auth"]!["session"] = flows.GetProperty("session").GetString();
            response = await server.Client.PostAsJsonAsync("/_matrix/client/v3/register", body);
        }
        Assert.True(response.IsSuccessStatusCode, $"register {localpart}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var registered = await response.ReadJsonAsync();
        return new SyncUser(server.Client, registered.GetProperty("user_id").GetString()!,
            registered.GetProperty("device_id").GetString()!, registered.GetProperty("access_token").GetString()!);
    }

    /// <summary>Room operations over HTTP as this user.</summary>
    public Rooms.RoomsClient Rooms => new(http, new TestUser(UserId, DeviceId, AccessToken));

    /// <summary>The same account and device on another server instance (e.g. after a restart on the same data).</summary>
    public SyncUser On(RunningServer server) => new(server.Client, UserId, DeviceId, AccessToken);

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        if (body is not null) request.Content = JsonContent.Create(body);
        return http.SendAsync(request);
    }

    /// <summary>GET /sync with the given query (without the leading '?'), asserting 200.</summary>
    public async Task<JsonElement> SyncAsync(string query = "")
    {
        var response = await GetAsync("/_matrix/client/v3/sync" + (query.Length > 0 ? "?" + query : ""));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"sync?{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    public Task<JsonElement> SyncSinceAsync(string since, string extra = "") =>
        SyncAsync($"since={Uri.EscapeDataString(since)}" + (extra.Length > 0 ? "&" + extra : ""));

    public async Task<string> CreateFilterAsync(JsonNode filter)
    {
        var response = await SendAsync(HttpMethod.Post, $"/_matrix/client/v3/user/{Uri.EscapeDataString(UserId)}/filter", filter);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("filter_id").GetString()!;
    }

    public async Task SetAccountDataAsync(string type, JsonNode content, string? roomId = null)
    {
        var user = Uri.EscapeDataString(UserId);
        var path = roomId is null
            ? $"/_matrix/client/v3/user/{user}/account_data/{type}"
            : $"/_matrix/client/v3/user/{user}/rooms/{Uri.EscapeDataString(roomId)}/account_data/{type}";
        var response = await SendAsync(HttpMethod.Put, path, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
