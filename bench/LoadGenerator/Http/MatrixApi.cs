using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.LoadGenerator.Http;

/// <summary>A user as a client holds it after registering: the id and an access token.</summary>
public sealed record User(string UserId, string AccessToken);

/// <summary>A request that did not answer 200; carries the status so callers can tell overload from a bug.</summary>
public sealed class MatrixRequestFailed(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The Client-Server API calls the scenarios make, over one shared <see cref="HttpClient"/> (pooled keep-alive
/// connections, no per-client handler). Every call is a real HTTP request to the server under test.
/// </summary>
public sealed class MatrixApi(HttpClient http, string? sharedSecret)
{
    public HttpClient Http { get; } = http;

    public static HttpClient CreateHttpClient(Uri baseUrl) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(30),
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = baseUrl,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Registers <paramref name="localpart"/>: with the shared secret when the server was given one (admins need it),
    /// otherwise with open registration's <c>m.login.dummy</c> stage.
    /// </summary>
    public async Task<User> RegisterAsync(string localpart, bool admin, CancellationToken ct)
    {
        var password = "bench-" + localpart;
        JsonElement registered;
        if (sharedSecret is not null)
        {
            var nonce = (await SendAsync(HttpMethod.Get, "/_synapse/admin/v1/register", null, null, ct)).GetProperty("nonce").GetString()!;
            var message = string.Join('\0', nonce, localpart, password, admin ? "admin" : "notadmin");
            var mac = Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.UTF8.GetBytes(message)));
            registered = await SendAsync(HttpMethod.Post, "/_synapse/admin/v1/register", null,
                new JsonObject { ["nonce"] = nonce, ["username"] = localpart, ["password"] = password, ["admin"] = admin, ["mac"] = mac }, ct);
        }
        else
        {
            if (admin) throw new InvalidOperationException("An admin can only be registered with the shared secret (--shared-secret).");
            var session = await StartRegistrationAsync(ct);
            registered = await SendAsync(HttpMethod.Post, "/_matrix/client/v3/register", null,
                new JsonObject { ["username"] = localpart, ["password"] = password, ["auth"] = new JsonObject { ["type"] = "m.login.dummy", ["session"] = session } }, ct);
        }
        return new User(registered.GetProperty("user_id").GetString()!, registered.GetProperty("access_token").GetString()!);
    }

    private async Task<string> StartRegistrationAsync(CancellationToken ct)
    {
        using var response = await Http.PostAsync("/_matrix/client/v3/register", new StringContent("{}", Encoding.UTF8, "application/json"), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
            throw new MatrixRequestFailed(response.StatusCode, $"POST /register answered {(int)response.StatusCode}: {Truncate(body)}");
        return JsonDocument.Parse(body).RootElement.GetProperty("session").GetString()!;
    }

    /// <summary>Logs the user in again as a new device with the given id (m.login.password), for a user with several devices.</summary>
    public async Task<User> LoginAsync(User user, string password, string deviceId, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["type"] = "m.login.password",
            ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = user.UserId },
            ["password"] = password,
            ["device_id"] = deviceId,
        };
        var loggedIn = await SendAsync(HttpMethod.Post, "/_matrix/client/v3/login", null, body, ct);
        return new User(loggedIn.GetProperty("user_id").GetString()!, loggedIn.GetProperty("access_token").GetString()!);
    }

    public async Task<string> CreateRoomAsync(User creator, JsonObject body, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Post, "/_matrix/client/v3/createRoom", creator, body, ct)).GetProperty("room_id").GetString()!;

    public Task JoinAsync(User user, string roomId, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}", user, new JsonObject(), ct);

    /// <summary>Sends a message and returns its event id (the server answers once the event is persisted).</summary>
    public async Task<string> SendMessageAsync(User sender, string roomId, string txnId, JsonObject content, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{Uri.EscapeDataString(txnId)}", sender, content, ct))
            .GetProperty("event_id").GetString()!;

    public async Task<string> PutStateAsync(User sender, string roomId, string type, string stateKey, JsonObject content, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/state/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(stateKey)}", sender, content, ct))
            .GetProperty("event_id").GetString()!;

    /// <summary>The server process's <c>HomeServer.*</c> counters (admin only).</summary>
    /// <remarks>
    /// A saturated server may shed even this read (503 while its database pool is exhausted); the measurement window
    /// needs the counters, so the read is tried again each second for up to a minute.
    /// </remarks>
    public async Task<IReadOnlyDictionary<string, double>> CountersAsync(User admin, CancellationToken ct)
    {
        var giveUpAt = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                var counters = (await SendAsync(HttpMethod.Get, "/_homeserver/admin/metrics", admin, null, ct)).GetProperty("counters");
                return counters.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            }
            catch (MatrixRequestFailed e) when (e.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests && DateTime.UtcNow < giveUpAt)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    public static HttpRequestMessage SyncRequest(User user, string? since, string? filter, int timeoutMs)
    {
        var query = new StringBuilder("/_matrix/client/v3/sync?timeout=").Append(timeoutMs);
        if (since is not null) query.Append("&since=").Append(Uri.EscapeDataString(since));
        if (filter is not null) query.Append("&filter=").Append(Uri.EscapeDataString(filter));
        var request = new HttpRequestMessage(HttpMethod.Get, query.ToString());
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return request;
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, User? user, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (user is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new MatrixRequestFailed(response.StatusCode, $"{method} {path} answered {(int)response.StatusCode}: {Truncate(text)}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
