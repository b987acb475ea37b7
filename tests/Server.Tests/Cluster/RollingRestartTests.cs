using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Syncing clients and senders work through a gateway while every silo in turn is drained and replaced by a
/// newer build: no request fails, and every member receives every acknowledged message once, in order, with no
/// limited (gappy) timeline.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = ProcessCluster.StartTimeout;
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("rolling.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<(ServerProcess Process, HttpClient Http)> StartAsync(params string[] extra) => _cluster.StartAsync(extra);

    private static Task<JsonElement> CallAsync(HttpClient http, HttpMethod method, string path, string? token, object? body = null) =>
        ProcessCluster.CallAsync(http, method, path, token, body);

    [Fact]
    public async Task Every_silo_is_drained_and_upgraded_in_turn_while_clients_sync_and_send()
    {
        var silos = new List<ServerProcess>();
        for (var i = 0; i < 3; i++) silos.Add((await StartAsync("--Cluster:BuildVersion=1.0.0")).Process);
        var (_, gateway) = await StartAsync("--Cluster:Role=gateway");

        const int roomCount = 2, membersPerRoom = 5;
        var tokens = new List<string>();
        for (var u = 0; u < roomCount * membersPerRoom; u++) tokens.Add(await ProcessCluster.RegisterAsync(gateway, $"user{u}"));
        var rooms = new List<string>();
        var memberRooms = new Dictionary<int, string>();
        for (var r = 0; r < roomCount; r++)
        {
            var owner = r * membersPerRoom;
            var roomId = (await CallAsync(gateway, HttpMethod.Post, "/_matrix/client/v3/createRoom", tokens[owner], new { preset = "public_chat" }))
                .GetProperty("room_id").GetString()!;
            for (var m = 0; m < membersPerRoom; m++)
            {
                if (m > 0) await CallAsync(gateway, HttpMethod.Post, $"/_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}", tokens[owner + m], new { });
                memberRooms[owner + m] = roomId;
            }
            rooms.Add(roomId);
        }

        var failures = new List<string>();
        var sent = rooms.ToDictionary(r => r, _ => new List<string>());
        var received = tokens.Select(_ => new List<string>()).ToArray();
        var limited = 0;
        using var stop = new CancellationTokenSource();
        var catchUpDeadline = DateTime.MaxValue;
        // Syncers stop only once every sender has returned: a send still in flight when `stop` fires is counted
        // in `sent` after it is acknowledged, and its members must still receive it.
        var sendersDone = new TaskCompletionSource();
        const string filter = """{"room":{"timeline":{"limit":100}}}""";

        // Initial syncs before the first send, so every message arrives through incremental syncs.
        var initial = await Task.WhenAll(tokens.Select(async token =>
            (await CallAsync(gateway, HttpMethod.Get, $"/_matrix/client/v3/sync?filter={Uri.EscapeDataString(filter)}", token))
                .GetProperty("next_batch").GetString()));
        var syncers = tokens.Select(async (token, user) =>
        {
            var since = initial[user];
            while (!sendersDone.Task.IsCompleted || (received[user].Count < sent[memberRooms[user]].Count && DateTime.UtcNow < catchUpDeadline))
            {
                try
                {
                    var sync = await CallAsync(gateway, HttpMethod.Get,
                        $"/_matrix/client/v3/sync?timeout=1000&since={Uri.EscapeDataString(since!)}&filter={Uri.EscapeDataString(filter)}", token);
                    since = sync.GetProperty("next_batch").GetString();
                    if (!sync.TryGetProperty("rooms", out var roomsSection) || !roomsSection.TryGetProperty("join", out var joined)) continue;
                    foreach (var room in joined.EnumerateObject())
                    {
                        var timeline = room.Value.GetProperty("timeline");
                        if (timeline.TryGetProperty("limited", out var isLimited) && isLimited.GetBoolean()) Interlocked.Increment(ref limited);
                        received[user].AddRange(timeline.GetProperty("events").EnumerateArray()
                            .Where(e => e.GetProperty("type").GetString() == "m.room.message")
                            .Select(e => e.GetProperty("event_id").GetString()!));
                    }
                }
                catch (Exception exception)
                {
                    lock (failures) failures.Add($"sync: {exception.Message}");
                    if (sendersDone.Task.IsCompleted) return;
                }
            }
        }).ToArray();

        var senders = rooms.Select(async (roomId, r) =>
        {
            var sender = tokens[r * membersPerRoom];
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    var result = await CallAsync(gateway, HttpMethod.Put,
                        $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/m{n}", sender, new { msgtype = "m.text", body = $"{n}" });
                    lock (sent[roomId]) sent[roomId].Add(result.GetProperty("event_id").GetString()!);
                }
                catch (Exception exception)
                {
                    lock (failures) failures.Add($"send: {exception.Message}");
                }
                await Task.Delay(20);
            }
        }).ToArray();

        await Task.Delay(1000);
        for (var i = 0; i < silos.Count; i++)
        {
            silos[i].SendSigterm();
            Assert.Equal(0, await silos[i].WaitForExitAsync(StartTimeout));
            silos[i] = (await StartAsync("--Cluster:BuildVersion=2.0.0")).Process;
            await Task.Delay(500);
        }
        await Task.Delay(1000);
        stop.Cancel();
        await Task.WhenAll(senders);
        catchUpDeadline = DateTime.UtcNow.AddSeconds(20);
        sendersDone.SetResult();
        await Task.WhenAll(syncers);

        output.WriteLine($"{sent.Values.Sum(s => s.Count)} messages sent; {received.Sum(r => r.Count)} deliveries; {failures.Count} failures");
        for (var user = 0; user < tokens.Count; user++)
        {
            var expected = sent[memberRooms[user]];
            var missing = expected.Except(received[user]).Count();
            var duplicates = received[user].Count - received[user].Distinct().Count();
            if (missing + duplicates > 0) output.WriteLine($"user{user}: {missing} missing, {duplicates} duplicates of {expected.Count}");
        }
        Assert.Empty(failures);
        Assert.Equal(0, limited);
        for (var user = 0; user < tokens.Count; user++)
            Assert.Equal(sent[memberRooms[user]], received[user]); // every acknowledged message once, in order
    }
}
