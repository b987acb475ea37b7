using System.Globalization;
using System.Net;
using System.Text.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Server.Tests.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.RateLimits;

/// <summary>What the rate limit tests share: a server with some buckets tight, and the checks of a 429.</summary>
internal static class RateLimitTestServer
{
    /// <summary>A bucket that refills so slowly that no test sees a token come back.</summary>
    public const double NeverRefills = 0.0001;

    public static Task<RunningServer> StartAsync(params string[] args) =>
        RunningServer.StartAsync([.. AccountsServerFixture.TestArguments, .. args]);

    public static string[] Tight(RateLimitBucket bucket, int burst, double perSecond = NeverRefills) =>
        RateLimitArguments.Bucket(bucket, perSecond, burst);

    /// <summary>Asserts 429 M_LIMIT_EXCEEDED with retry_after_ms and a Retry-After header of those milliseconds in whole seconds, rounded up.</summary>
    public static async Task<long> AssertLimitExceededAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("M_LIMIT_EXCEEDED", body.GetProperty("errcode").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        var retryAfterMs = body.GetProperty("retry_after_ms").GetInt64();
        Assert.True(retryAfterMs > 0);
        var header = Assert.Single(response.Headers.GetValues("Retry-After"));
        Assert.Equal(((retryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture), header);
        return retryAfterMs;
    }

    public static async Task AssertOkAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
    }

    public static async Task<HttpResponseMessage> LogInRawAsync(this HttpClient client, string user, string password) =>
        await client.PostAsync($"{V3}/login", Json(new { type = "m.login.password", identifier = new { type = "m.id.user", user }, password }));

    /// <summary>Open registration with the one-shot m.login.dummy stage.</summary>
    public static Task<HttpResponseMessage> RegisterRawAsync(this HttpClient client, string username, string password = Password) =>
        client.PostAsync($"{V3}/register", Json(new { username, password, auth = new { type = "m.login.dummy" } }));

    public static async Task<string> CreateRoomAsync(this HttpClient client, TestUser user, string preset = "public_chat")
    {
        using var response = await client.PostAsync($"{V3}/createRoom", Json(new { preset }), user.AccessToken);
        return (await response.OkJsonAsync()).GetProperty("room_id").GetString()!;
    }

    public static Task<HttpResponseMessage> SendMessageAsync(this HttpClient client, TestUser user, string roomId) =>
        client.PutAsync($"{V3}/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{Guid.NewGuid():N}",
            Json(new { msgtype = "m.text", body = "hello" }), user.AccessToken);

    public static Task<HttpResponseMessage> JoinAsync(this HttpClient client, TestUser user, string roomId) =>
        client.PostAsync($"{V3}/rooms/{Uri.EscapeDataString(roomId)}/join", "{}", user.AccessToken);

    public static Task<HttpResponseMessage> InviteAsync(this HttpClient client, TestUser user, string roomId, string invitee) =>
        client.PostAsync($"{V3}/rooms/{Uri.EscapeDataString(roomId)}/invite", Json(new { user_id = invitee }), user.AccessToken);
}

/// <summary>Requests that seem to come from a client address of their own, through the trusted proxy 127.0.0.1.</summary>
internal static class ForwardedClient
{
    public const string TrustLoopback = "--RateLimits:TrustedProxies:0=127.0.0.1";

    /// <summary>An address no other test uses, from the 10.0.0.0/8 private network.</summary>
    public static string NewAddress() => $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}";

    public static async Task<HttpResponseMessage> SendFromAsync(this HttpClient client, string address, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        request.Headers.Add("X-Forwarded-For", address);
        return await client.SendAsync(request);
    }
}
