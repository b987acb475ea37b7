using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Accounts;

public sealed record RegisteredUser(string UserId, string AccessToken, string DeviceId)
{
    public string Localpart => UserId[1..UserId.IndexOf(':')];
}

/// <summary>Client-Server API calls the account tests make, over the real HTTP interface.</summary>
public static class AccountsApi
{
    public const string V3 = "/_matrix/client/v3";
    public const string Password = "correct horse battery staple";

    /// <summary>A username no other test uses.</summary>
    public static string NewUsername(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static string Json(object value) => JsonSerializer.Serialize(value);

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string path, string? body = null, string? token = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> GetAsync(this HttpClient client, string path, string? token) =>
        client.SendAsync(HttpMethod.Get, path, token: token);

    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string path, string? body, string? token = null) =>
        client.SendAsync(HttpMethod.Post, path, body, token);

    public static Task<HttpResponseMessage> PutAsync(this HttpClient client, string path, string? body, string? token = null) =>
        client.SendAsync(HttpMethod.Put, path, body, token);

    public static Task<HttpResponseMessage> DeleteAsync(this HttpClient client, string path, string? body, string? token = null) =>
        client.SendAsync(HttpMethod.Delete, path, body, token);

    /// <summary>The body of a successful response.</summary>
    public static async Task<JsonElement> OkJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return await response.ReadJsonAsync();
    }

    /// <summary>The session of a 401 that asks for user-interactive authentication, after checking its flows.</summary>
    public static async Task<string> ChallengeSessionAsync(this HttpResponseMessage response, params string[] expectedStages)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.ReadJsonAsync();
        var flow = Assert.Single(body.GetProperty("flows").EnumerateArray());
        Assert.Equal(expectedStages, flow.GetProperty("stages").EnumerateArray().Select(stage => stage.GetString()));
        Assert.Equal(JsonValueKind.Object, body.GetProperty("params").ValueKind);
        return body.GetProperty("session").GetString()!;
    }

    /// <summary>Registers through the <c>m.login.dummy</c> flow of open registration.</summary>
    public static async Task<RegisteredUser> RegisterAsync(this HttpClient client, string username, string password = Password, string? deviceId = null)
    {
        var session = await client.StartRegistrationAsync();
        using var response = await client.PostAsync($"{V3}/register", Json(new
        {
            username,
            password,
            device_id = deviceId,
            auth = new { type = "m.login.dummy", session },
        }));
        var body = await response.OkJsonAsync();
        return new RegisteredUser(body.GetProperty("user_id").GetString()!, body.GetProperty("access_token").GetString()!, body.GetProperty("device_id").GetString()!);
    }

    public static async Task<string> StartRegistrationAsync(this HttpClient client, params string[] expectedStages)
    {
        using var response = await client.PostAsync($"{V3}/register", "{}");
        return await response.ChallengeSessionAsync(expectedStages.Length == 0 ? ["m.login.dummy"] : expectedStages);
    }

    public static async Task<RegisteredUser> LogInAsync(this HttpClient client, string user, string password = Password, string? deviceId = null)
    {
        using var response = await client.PostAsync($"{V3}/login", Json(new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user },
            password,
            device_id = deviceId,
        }));
        var body = await response.OkJsonAsync();
        return new RegisteredUser(body.GetProperty("user_id").GetString()!, body.GetProperty("access_token").GetString()!, body.GetProperty("device_id").GetString()!);
    }

    /// <summary>The <c>auth</c> object of an <c>m.login.password</c> stage for the user.</summary>
    public static object PasswordAuth(string? session, string user, string password = Password) =>
        new { type = "m.login.password", session, identifier = new { type = "m.id.user", user }, password };

    public static async Task<HttpStatusCode> WhoAmIStatusAsync(this HttpClient client, string token)
    {
        using var response = await client.GetAsync($"{V3}/account/whoami", token);
        return response.StatusCode;
    }

    public static async Task<bool> IsUsernameAvailableAsync(this HttpClient client, string username)
    {
        using var response = await client.GetAsync($"{V3}/register/available?username={Uri.EscapeDataString(username)}", token: null);
        return response.StatusCode == HttpStatusCode.OK;
    }
}
