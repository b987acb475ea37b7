using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// To-device messages keep their standard while a silo drains: two devices long-poll /sync and a sender keeps sending
/// to both through a gateway process; every acknowledged send reaches each device exactly once, in send order.
/// </summary>
public sealed class ToDeviceDrainTests : IAsyncLifetime
{
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("cluster.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static Task<JsonElement> CallAsync(HttpClient http, HttpMethod method, string path, string token, object? body = null) =>
        ProcessCluster.RetryWhileUnavailableAsync(() => ProcessCluster.CallAsync(http, method, path, token, body));

    private static async Task<string> LogInAsync(HttpClient http, string user, string deviceId) =>
        (await ProcessCluster.CallAsync(http, HttpMethod.Post, "/_matrix/client/v3/login", null, new
        {
            type = "m.login.password",
            identifier = new { type = "m.id.user", user },
            password = "correct horse",
            device_id = deviceId,
        })).GetProperty("access_token").GetString()!;

    [Fact]
    public async Task Each_device_gets_each_message_once_and_in_order_while_a_silo_drains()
    {
        var (silo1, _) = await _cluster.StartAsync();
        await _cluster.StartAsync();
        var (_, gateway) = await _cluster.StartAsync("--Cluster:Role=gateway");
        await ProcessCluster.RegisterAsync(gateway, "alice");
        var bob = await ProcessCluster.RegisterAsync(gateway, "bob");
        var devices = new Dictionary<string, string>
        {
            ["PHONE"] = await LogInAsync(gateway, "alice", "PHONE"),
            ["LAPTOP"] = await LogInAsync(gateway, "alice", "LAPTOP"),
        };
        var received = devices.Keys.ToDictionary(d => d, _ => new List<long>());
        var tokens = new Dictionary<string, string>();
        foreach (var (device, token) in devices)
            tokens[device] = (await CallAsync(gateway, HttpMethod.Get, "/_matrix/client/v3/sync?timeout=0", token)).GetProperty("next_batch").GetString()!;

        using var stopSyncing = new CancellationTokenSource();
        var syncFailures = 0;
        var syncers = devices.Select(async pair =>
        {
            var (device, token) = pair;
            while (!stopSyncing.IsCancellationRequested)
            {
                try
                {
                    var sync = await ProcessCluster.CallAsync(gateway, HttpMethod.Get,
                        $"/_matrix/client/v3/sync?timeout=2000&since={Uri.EscapeDataString(tokens[device])}", token);
                    received[device].AddRange(sync.GetProperty("to_device").GetProperty("events").EnumerateArray()
                        .Select(e => e.GetProperty("content").GetProperty("n").GetInt64()));
                    tokens[device] = sync.GetProperty("next_batch").GetString()!;
                }
                catch (HttpRequestException)
                {
                    // A client retries with the same since; a lost response's messages come again.
                    Interlocked.Increment(ref syncFailures);
                    await Task.Delay(200);
                }
            }
        }).ToArray();

        var sent = new List<long>();
        using var stopSending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            for (long n = 0; !stopSending.IsCancellationRequested; n++)
            {
                // A client resends with the same transaction id until it is acknowledged.
                while (true)
                {
                    try
                    {
                        await ProcessCluster.CallAsync(gateway, HttpMethod.Put, $"/_matrix/client/v3/sendToDevice/m.test/txn{n}", bob,
                            new { messages = new Dictionary<string, object> { ["@alice:cluster.test"] = new Dictionary<string, object> { ["*"] = new { n } } } });
                        break;
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(200);
                    }
                }
                sent.Add(n);
            }
        });

        await Task.Delay(1500);
        silo1.SendSigterm();
        Assert.Equal(0, await silo1.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var sentWhenDrained = sent.Count;
        await Task.Delay(1500);
        stopSending.Cancel();
        await sender;
        Assert.True(sent.Count > sentWhenDrained, "sending went on after the silo left");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (received.Values.Any(r => r.Count < sent.Count) && DateTime.UtcNow < deadline) await Task.Delay(100);
        stopSyncing.Cancel();
        await Task.WhenAll(syncers);

        Assert.NotEmpty(sent);
        foreach (var device in devices.Keys) Assert.Equal(sent, received[device]);
    }
}
