using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>One user's view of the Client-Server API: raw requests plus the calls the room tests make most.</summary>
public sealed class RoomsClient(HttpClient http, TestUser user)
{
    public TestUser User { get; } = user;

    public string UserId => User.UserId;

    public static string Escape(string value) => Uri.EscapeDataString(value);

    public Task<HttpResponseMessage> RequestAsync(HttpMethod method, string path, object? body = null) =>
        RawAsync(method, path, body is null ? null : JsonSerializer.Serialize(body));

    public async Task<HttpResponseMessage> RawAsync(HttpMethod method, string path, string? json, bool authenticated = true)
    {
        using var request = new HttpRequestMessage(method, "/_matrix/client/v3" + path);
        if (authenticated) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", User.AccessToken);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await http.SendAsync(request);
    }

    /// <summary>Sends and asserts 200 with a JSON body, which it returns.</summary>
    public async Task<JsonElement> OkAsync(HttpMethod method, string path, object? body = null)
    {
        using var response = await RequestAsync(method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Sends and asserts the Matrix error.</summary>
    public async Task FailsAsync(HttpMethod method, string path, object? body, HttpStatusCode status, string errcode)
    {
        using var response = await RequestAsync(method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{method} {path} answered {(int)response.StatusCode}, expected {(int)status}: {text}");
        Assert.Equal(errcode, JsonDocument.Parse(text).RootElement.GetProperty("errcode").GetString());
    }

    public async Task<string> CreateRoomAsync(object? body = null) =>
        (await OkAsync(HttpMethod.Post, "/createRoom", body ?? new { })).GetProperty("room_id").GetString()!;

    public Task<JsonElement> JoinAsync(string roomIdOrAlias) => OkAsync(HttpMethod.Post, $"/join/{Escape(roomIdOrAlias)}", new { });

    public Task InviteAsync(string roomId, string userId) => OkAsync(HttpMethod.Post, $"/rooms/{Escape(roomId)}/invite", new { user_id = userId });

    public Task LeaveAsync(string roomId) => OkAsync(HttpMethod.Post, $"/rooms/{Escape(roomId)}/leave", new { });

    private int _txn;

    public string NextTxnId() => $"txn{Interlocked.Increment(ref _txn)}-{Guid.NewGuid():N}";

    public async Task<string> SendAsync(string roomId, object content, string type = "m.room.message", string? txnId = null) =>
        (await OkAsync(HttpMethod.Put, $"/rooms/{Escape(roomId)}/send/{Escape(type)}/{Escape(txnId ?? NextTxnId())}", content))
            .GetProperty("event_id").GetString()!;

    public Task<string> SendTextAsync(string roomId, string body) => SendAsync(roomId, new { msgtype = "m.text", body });

    public async Task<string> SetStateAsync(string roomId, string type, object content, string stateKey = "") =>
        (await OkAsync(HttpMethod.Put, $"/rooms/{Escape(roomId)}/state/{Escape(type)}/{Escape(stateKey)}", content))
            .GetProperty("event_id").GetString()!;

    public Task<JsonElement> GetStateEventAsync(string roomId, string type, string stateKey = "") =>
        OkAsync(HttpMethod.Get, $"/rooms/{Escape(roomId)}/state/{Escape(type)}/{Escape(stateKey)}");

    public Task<JsonElement> MessagesAsync(string roomId, string query) =>
        OkAsync(HttpMethod.Get, $"/rooms/{Escape(roomId)}/messages?{query}");

    public Task<JsonElement> GetEventAsync(string roomId, string eventId) =>
        OkAsync(HttpMethod.Get, $"/rooms/{Escape(roomId)}/event/{Escape(eventId)}");
}
