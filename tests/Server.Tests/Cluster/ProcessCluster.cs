using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.TestSupport;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Silo and gateway processes sharing one PostgreSQL database (store and membership table), each with its own
/// data directory, plus the HTTP calls the cluster tests make through them. Everything is cleaned up on dispose.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    public const string SharedSecret = "cluster-test-secret";

    private readonly List<ServerProcess> _processes = [];
    private readonly List<string> _directories = [];
    private readonly PostgresTestDatabase _database;
    private readonly string _serverName;

    private ProcessCluster(PostgresTestDatabase database, string serverName)
    {
        _database = database;
        _serverName = serverName;
    }

    public static async Task<ProcessCluster> CreateAsync(string serverName) => new(await PostgresTestDatabase.CreateAsync(), serverName);

    /// <summary>Starts a silo (or, with <c>--Cluster:Role=gateway</c>, a gateway) and waits until it is ready.</summary>
    public Task<(ServerProcess Process, HttpClient Http)> StartAsync(params string[] extra) => StartAsync(null, extra);

    /// <inheritdoc cref="StartAsync(string[])"/>
    /// <param name="handler">The test's HTTP handler for the process (e.g. one that trusts a test CA), else the default.</param>
    public async Task<(ServerProcess Process, HttpClient Http)> StartAsync(HttpMessageHandler? handler, params string[] extra)
    {
        var directory = TemporaryDirectory.NewPath();
        _directories.Add(directory);
        var ports = FreeTcpPorts.Take(2);
        var process = ServerProcess.Start([
            "--urls=http://127.0.0.1:0", $"--DataDirectory={directory}", $"--ServerName={_serverName}",
            $"--Cluster:SiloPort={ports[0]}", $"--Cluster:GatewayPort={ports[1]}",
            "--Storage:Kind=postgres", $"--Storage:ConnectionString={_database.ConnectionString}",
            "--Cluster:Membership=postgres", "--PasswordHashing:Iterations=1000", $"--Registration:SharedSecret={SharedSecret}",
            .. RateLimitArguments.Generous, .. extra]);
        _processes.Add(process);
        string url;
        try
        {
            url = await process.ListeningUrlAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"The process did not start listening:\n{process.Output}");
        }
        var http = new HttpClient(handler ?? new HttpClientHandler()) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(90) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!(await http.GetAsync("/health/ready")).IsSuccessStatusCode)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The process never became ready:\n{process.Output}");
            await Task.Delay(200);
        }
        return (process, http);
    }

    /// <summary>Sends a request and returns its JSON body; any non-success status throws with the body.</summary>
    public static async Task<JsonElement> CallAsync(HttpClient http, HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{method} {path} answered {(int)response.StatusCode}: {text}", null, response.StatusCode);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>
    /// Runs <paramref name="call"/> again after a 503, waiting a second each time, as Matrix clients do with the
    /// server's Retry-After; for requests made while a cluster recovers from a fault.
    /// </summary>
    public static async Task<T> RetryWhileUnavailableAsync<T>(Func<Task<T>> call, int attempts = 10)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < attempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>Registers through the open m.login.dummy flow and returns the access token.</summary>
    public static async Task<string> RegisterAsync(HttpClient http, string user, string password = "correct horse")
    {
        using var first = await http.PostAsJsonAsync("/_matrix/client/v3/register", new { username = user, password });
        var flows = await first.Content.ReadFromJsonAsync<JsonElement>();
        if (first.StatusCode != System.Net.HttpStatusCode.Unauthorized)
            throw new HttpRequestException($"POST /register without auth answered {(int)first.StatusCode}: {flows}", null, first.StatusCode);
        var session = flows.GetProperty("session").GetString();
        return (await CallAsync(http, HttpMethod.Post, "/_matrix/client/v3/register", null,
            new { username = user, password, auth = new { type = "m.login.dummy", session } })).GetProperty("access_token").GetString()!;
    }

    /// <summary>An admin, registered with the shared secret as Synapse's admin API does it.</summary>
    public static async Task<string> RegisterAdminAsync(HttpClient http, string user)
    {
        var nonce = (await http.GetFromJsonAsync<JsonElement>("/_synapse/admin/v1/register")).GetProperty("nonce").GetString()!;
        const string password = "admin password";
        var mac = Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(SharedSecret),
            Encoding.UTF8.GetBytes($"{nonce}\0{user}\0{password}\0admin")));
        return (await CallAsync(http, HttpMethod.Post, "/_synapse/admin/v1/register", null,
            new { nonce, username = user, password, admin = true, mac })).GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes) process.Dispose();
        foreach (var directory in _directories) TemporaryDirectory.Delete(directory);
        await _database.DisposeAsync();
    }

    /// <summary>The ids of every m.room.message in the room, oldest first, paging back through /messages.</summary>
    public static async Task<List<string>> ReadMessageIdsAsync(HttpClient http, string roomId, string token)
    {
        var newestFirst = new List<string>();
        string? from = null;
        do
        {
            var page = await CallAsync(http, HttpMethod.Get,
                $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/messages?dir=b&limit=100" + (from is null ? "" : $"&from={Uri.EscapeDataString(from)}"), token);
            newestFirst.AddRange(page.GetProperty("chunk").EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() == "m.room.message")
                .Select(e => e.GetProperty("event_id").GetString()!));
            from = page.TryGetProperty("end", out var end) ? end.GetString() : null;
        }
        while (from is not null);
        newestFirst.Reverse();
        return newestFirst;
    }
}
