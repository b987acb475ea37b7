using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Silos and a gateway as separate processes that find each other only through the membership table in
/// PostgreSQL: the gateway serves clients while a silo drains, with no failed request and no lost message.
/// </summary>
public sealed class ClusterProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = ProcessCluster.StartTimeout;
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("cluster.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<(ServerProcess Process, HttpClient Http)> StartAsync(params string[] extra) => _cluster.StartAsync(extra);

    private static Task<JsonElement> CallAsync(HttpClient http, HttpMethod method, string path, string token, object? body = null) =>
        ProcessCluster.CallAsync(http, method, path, token, body);

    [Fact]
    public async Task An_admin_drains_a_silo_through_the_gateway_and_the_silo_exits_while_the_gateway_keeps_serving()
    {
        var (silo1, _) = await StartAsync();
        var (silo2, _) = await StartAsync();
        var (_, gateway) = await StartAsync("--Cluster:Role=gateway");
        var admin = await ProcessCluster.RegisterAdminAsync(gateway, "operator");
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
        var admin = await ProcessCluster.RegisterAdminAsync(gateway, "operator");
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
            var timeline = await ProcessCluster.ReadMessageIdsAsync(gateway, roomId, admin);
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

    [Fact]
    public async Task A_silo_drains_while_a_separate_gateway_keeps_serving_with_no_failed_request_and_no_lost_message()
    {
        // Two builds that differ in their version, as during a rolling upgrade.
        var (silo1, _) = await StartAsync("--Cluster:BuildVersion=1.0.0");
        var (silo2, _) = await StartAsync("--Cluster:BuildVersion=2.0.0");
        var (_, gateway) = await StartAsync("--Cluster:Role=gateway", "--Cluster:BuildVersion=1.0.0");

        var alice = await ProcessCluster.RegisterAsync(gateway, "alice");
        var bob = await ProcessCluster.RegisterAsync(gateway, "bob");
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
            var timeline = await ProcessCluster.ReadMessageIdsAsync(gateway, roomId, bob);
            Assert.Equal(sent[roomId], timeline); // every acknowledged send, once, in send order
        }
    }
}
