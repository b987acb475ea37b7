using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.FederationBench;

/// <summary>The few Client-Server API calls the benchmark makes, as one user of one server.</summary>
internal sealed class MatrixClient(HttpClient http, Uri baseUrl, string userId, string accessToken)
{
    public string UserId => userId;

    /// <summary>An HTTP client for loopback servers whose certificate the throwaway CA issued.</summary>
    public static HttpClient CreateHttp() => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 64,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    {
        Timeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>Registers an admin with the server's shared secret (the Synapse admin API this server implements).</summary>
    public static async Task<MatrixClient> RegisterAdminAsync(HttpClient http, Uri baseUrl, string localpart, string secret)
    {
        var nonce = (await SendAsync(http, baseUrl, HttpMethod.Get, "/_synapse/admin/v1/register", null, null)).GetProperty("nonce").GetString()!;
        var password = "bench-" + localpart;
        var mac = Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret),
            Encoding.UTF8.GetBytes(string.Join('\0', nonce, localpart, password, "admin"))));
        var registered = await SendAsync(http, baseUrl, HttpMethod.Post, "/_synapse/admin/v1/register", null,
            new JsonObject { ["nonce"] = nonce, ["username"] = localpart, ["password"] = password, ["admin"] = true, ["mac"] = mac });
        return new MatrixClient(http, baseUrl, registered.GetProperty("user_id").GetString()!, registered.GetProperty("access_token").GetString()!);
    }

    public async Task<string> CreateRoomAsync() =>
        (await SendAsync(http, baseUrl, HttpMethod.Post, "/_matrix/client/v3/createRoom", accessToken, new JsonObject { ["preset"] = "public_chat" }))
        .GetProperty("room_id").GetString()!;

    public Task JoinAsync(string roomId) =>
        SendAsync(http, baseUrl, HttpMethod.Post, $"/_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}", accessToken, new JsonObject());

    public Task SendTextAsync(string roomId, string body) =>
        SendAsync(http, baseUrl, HttpMethod.Put,
            $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{Guid.NewGuid():N}", accessToken,
            new JsonObject { ["msgtype"] = "m.text", ["body"] = body });

    /// <summary>The server's <c>HomeServer.*</c> counters (totals since the process started).</summary>
    public async Task<Dictionary<string, double>> CountersAsync() =>
        (await SendAsync(http, baseUrl, HttpMethod.Get, "/_homeserver/admin/metrics", accessToken, null)).GetProperty("counters")
        .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());

    private static async Task<JsonElement> SendAsync(HttpClient http, Uri baseUrl, HttpMethod method, string path, string? token, JsonNode? body)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode) return JsonDocument.Parse(text).RootElement.Clone();
            // A busy server sheds load with 429/503: the benchmark waits and asks again rather than losing the step.
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < 30)
            {
                await Task.Delay(500);
                continue;
            }
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 300)]}");
        }
    }
}
