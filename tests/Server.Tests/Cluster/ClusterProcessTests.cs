using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.TestSupport;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Silos and a gateway as separate processes that find each other only through the membership table in
/// PostgreSQL: the gateway serves clients while a silo drains, with no failed request and no lost message.
/// </summary>
public sealed class ClusterProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const string SharedSecret = "cluster-test-secret";
    private readonly List<ServerProcess> _processes = [];
    private readonly List<string> _directories = [];
    private PostgresTestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresTestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var process in _processes) process.Dispose();
        foreach (var directory in _directories) TemporaryDirectory.Delete(directory);
        await _database.DisposeAsync();
    }

    private async Task<(ServerProcess Process, HttpClient Http)> StartAsync(params string[] extra)
    {
        var directory = TemporaryDirectory.NewPath();
        _directories.Add(directory);
        var process = ServerProcess.Start([
            "--urls=http://127.0.0.1:0", $"--DataDirectory={directory}", "--ServerName=cluster.test",
            "--Storage:Kind=postgres", $"--Storage:ConnectionString={_database.ConnectionString}",
            "--Cluster:Membership=postgres", "--PasswordHashing:Iterations=1000", $"--Registration:SharedSecret={SharedSecret}", .. extra]);
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
        return (process, new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(90) });
    }

    private static async Task WaitUntilReadyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while ((await http.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The process never became ready.");
            await Task.Delay(200);
        }
    }

    private static async Task<string> RegisterAsync(HttpClient http, string user)
    {
        var first = await http.PostAsJsonAsync("/_matrix/client/v3/register", new { username = user, password = "correct horse" });
        var session = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("session").GetString();
        var done = await http.PostAsJsonAsync("/_matrix/client/v3/register",
            new { username = user, password = "correct horse", auth = new { type = "m.login.dummy", session } });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        return (await done.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    /// <summary>An admin, registered with the shared secret as Synapse's admin API does it.</summary>
    private static async Task<string> RegisterAdminAsync(HttpClient http, string user)
    {
        var nonce = (await http.GetFromJsonAsync<JsonElement>("/_synapse/admin/v1/register")).GetProperty("nonce").GetString()!;
        const string password = "admin password";
        var mac = Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(SharedSecret),
            Encoding.UTF8.GetBytes($"{nonce}\0{user}\0{password}\0admin")));
        var response = await http.PostAsJsonAsync("/_synapse/admin/v1/register", new { nonce, username = user, password, admin = true, mac });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    [Fact]
    public async Task An_admin_drains_a_silo_through_the_gateway_and_the_silo_exits_while_the_gateway_keeps_serving()
    {
        var (silo1, silo1Http) = await StartAsync();
        var (silo2, silo2Http) = await StartAsync();
        var (_, gateway) = await StartAsync("--Cluster:Role=gateway");
        await WaitUntilReadyAsync(silo1Http);
        await WaitUntilReadyAsync(silo2Http);
        await WaitUntilReadyAsync(gateway);
        var admin = await RegisterAdminAsync(gateway, "operator");
        var roomId = (await CallAsync(gateway, HttpMethod.Post, "/_matrix/client/v3/createRoom", admin, new { })).GetProperty("room_id").GetString()!;

        var silos = (await CallAsync(gateway, HttpMethod.Get, "/_homeserver/admin/silos", admin)).GetProperty("silos").EnumerateArray().ToArray();
        Assert.Equal(2, silos.Count(s => s.GetProperty("status").GetString() == "Active"));
        var target = silos[0].GetProperty("id").GetString()!;
        await CallAsync(gateway, HttpMethod.Post, $"/_homeserver/admin/silos/{Uri.EscapeDataString(target)}/drain", admin);

        var exited = await Task.WhenAny(silo1.WaitForExitAsync(StartTimeout), silo2.WaitForExitAsync(StartTimeout));
        Assert.Equal(0, await exited);
        Assert.False(silo1.HasExited && silo2.HasExited);
        await CallAsync(gateway, HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/after-drain", admin,
            new { msgtype = "m.text", body = "still here" });
        var after = (await CallAsync(gateway, HttpMethod.Get, "/_homeserver/admin/silos", admin)).GetProperty("silos").EnumerateArray();
        Assert.Equal("Dead", after.Single(s => s.GetProperty("id").GetString() == target).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_killed_silo_loses_no_acknowledged_message_and_retried_sends_create_no_duplicates()
    {
        var silos = new List<(ServerProcess Process, HttpClient Http)> { await StartAsync(), await StartAsync(), await StartAsync() };
        var (_, gateway) = await StartAsync("--Cluster:Role=gateway");
        foreach (var (_, http) in silos) await WaitUntilReadyAsync(http);
        await WaitUntilReadyAsync(gateway);
        var admin = await RegisterAdminAsync(gateway, "operator");
        var rooms = new List<string>();
        for (var i = 0; i < 6; i++)
            rooms.Add((await CallAsync(gateway, HttpMethod.Post, "/_matrix/client/v3/createRoom", admin, new { })).GetProperty("room_id").GetString()!);

        var acknowledged = rooms.ToDictionary(r => r, _ => new List<string>());
        var retries = 0;
        using var stop = new CancellationTokenSource();
        var senders = rooms.Select(async roomId =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                // A client resends a failed request with the same transaction id until it is acknowledged.
                while (true)
                {
                    try
                    {
                        var result = await CallAsync(gateway, HttpMethod.Put,
                            $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/crash{n}", admin,
                            new { msgtype = "m.text", body = $"{n}" });
                        acknowledged[roomId].Add(result.GetProperty("event_id").GetString()!);
                        break;
                    }
                    catch (Exception)
                    {
                        Interlocked.Increment(ref retries);
                        await Task.Delay(200);
                    }
                }
            }
        }).ToArray();

        await Task.Delay(1000);
        var victim = silos[1].Process;
        var killedAt = DateTime.UtcNow;
        victim.KillAbruptly();
        var declaredDeadAfter = await WaitUntilOnlyTwoSilosAreActiveAsync(gateway, admin);
        await Task.Delay(1000);
        stop.Cancel();
        await Task.WhenAll(senders);

        output.WriteLine($"killed silo declared dead after {(declaredDeadAfter - killedAt).TotalSeconds:0.0} s; " +
            $"{acknowledged.Values.Sum(a => a.Count)} sends acknowledged, {retries} client retries");
        Assert.True(declaredDeadAfter - killedAt < TimeSpan.FromSeconds(20), $"declared dead after {declaredDeadAfter - killedAt}");
        foreach (var roomId in rooms)
        {
            var timeline = await ReadMessagesAsync(gateway, roomId, admin);
            Assert.Equal(acknowledged[roomId].Distinct().Count(), timeline.Count); // no duplicate from a retried transaction
            Assert.Equal(acknowledged[roomId].Distinct(), timeline);              // every acknowledged send, in order
        }
    }

    private static async Task<DateTime> WaitUntilOnlyTwoSilosAreActiveAsync(HttpClient gateway, string admin)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var silos = (await CallAsync(gateway, HttpMethod.Get, "/_homeserver/admin/silos", admin)).GetProperty("silos").EnumerateArray();
            if (silos.Count(s => s.GetProperty("status").GetString() == "Active") == 2) return DateTime.UtcNow;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The killed silo was never declared dead.");
            await Task.Delay(250);
        }
    }

    /// <summary>The ids of every m.room.message in the room, oldest first, paging back through /messages.</summary>
    private static async Task<List<string>> ReadMessagesAsync(HttpClient http, string roomId, string token)
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

    private static async Task<JsonElement> CallAsync(HttpClient http, HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_silo_drains_while_a_separate_gateway_keeps_serving_with_no_failed_request_and_no_lost_message()
    {
        // Two builds that differ in their version, as during a rolling upgrade.
        var (silo1, silo1Http) = await StartAsync("--Cluster:BuildVersion=1.0.0");
        var (silo2, silo2Http) = await StartAsync("--Cluster:BuildVersion=2.0.0");
        var (_, gateway) = await StartAsync("--Cluster:Role=gateway", "--Cluster:BuildVersion=1.0.0");
        await WaitUntilReadyAsync(silo1Http);
        await WaitUntilReadyAsync(silo2Http);
        await WaitUntilReadyAsync(gateway);

        var alice = await RegisterAsync(gateway, "alice");
        var bob = await RegisterAsync(gateway, "bob");
        var rooms = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var roomId = (await CallAsync(gateway, HttpMethod.Post, "/_matrix/client/v3/createRoom", alice,
                new { preset = "public_chat" })).GetProperty("room_id").GetString()!;
            await CallAsync(gateway, HttpMethod.Post, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/join", bob, new { });
            rooms.Add(roomId);
        }

        var sent = rooms.ToDictionary(r => r, _ => new List<string>());
        var failures = new List<string>();
        using var stop = new CancellationTokenSource();
        var senders = rooms.Select(async roomId =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    var result = await CallAsync(gateway, HttpMethod.Put,
                        $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/txn{n}", alice,
                        new { msgtype = "m.text", body = $"{n}" });
                    sent[roomId].Add(result.GetProperty("event_id").GetString()!);
                }
                catch (Exception exception)
                {
                    lock (failures) failures.Add(exception.Message);
                }
            }
        }).ToArray();

        await Task.Delay(1000);
        silo1.SendSigterm();
        Assert.Equal(0, await silo1.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var sentWhenDrained = rooms.Sum(r => sent[r].Count);
        await Task.Delay(1000);
        stop.Cancel();
        await Task.WhenAll(senders);

        Assert.Empty(failures);
        Assert.Contains("is draining", silo1.Output);
        Assert.Contains("runs build 1.0.0, this process 2.0.0", silo2.Output);
        Assert.True(rooms.Sum(r => sent[r].Count) > sentWhenDrained, "sending went on after the silo left");
        foreach (var roomId in rooms)
        {
            Assert.NotEmpty(sent[roomId]);
            var timeline = await ReadMessagesAsync(gateway, roomId, bob);
            Assert.Equal(sent[roomId], timeline); // every acknowledged send, once, in send order
        }
    }
}
