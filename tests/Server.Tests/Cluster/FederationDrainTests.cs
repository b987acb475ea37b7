using System.Text.Json;
using HomeServer.Server.Tests.Federation;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.TestSupport;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// A server of three silos and a gateway (PostgreSQL, its own processes) federates over TLS with a single-node server
/// while every silo in turn is drained and replaced: a user of each server takes turns writing in a room of the
/// cluster, and each sees every acknowledged message of both once and in order.
/// </summary>
public sealed class FederationDrainTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly LoneFederatedServer _single = new();
    private ProcessCluster _cluster = null!;
    private string _clusterName = "";
    private int _gatewayPort;

    public async Task InitializeAsync()
    {
        await _single.InitializeAsync();
        _gatewayPort = FreeTcpPorts.Take(1)[0];
        _clusterName = $"127.0.0.1:{_gatewayPort}";
        _cluster = await ProcessCluster.CreateAsync(_clusterName);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _single.DisposeAsync();
    }

    private string[] FederationArguments =>
    [
        $"--Federation:TrustedCaCertificates:0={_single.Authority.CaCertificatePath}", "--Federation:AllowPrivateAddresses=true",
        "--Federation:Outbound:InitialRetryDelay=00:00:00.5", "--Federation:Outbound:MaxRetryDelay=00:00:02",
    ];

    private static Task<JsonElement> CallAsync(HttpClient http, HttpMethod method, string path, string? token, object? body = null) =>
        ProcessCluster.RetryWhileUnavailableAsync(() => ProcessCluster.CallAsync(http, method, path, token, body));

    [Fact]
    public async Task Messages_go_both_ways_once_and_in_order_while_every_silo_of_one_server_drains_in_turn()
    {
        var silos = new List<ServerProcess>();
        for (var i = 0; i < 3; i++) silos.Add((await _cluster.StartAsync(FederationArguments)).Process);
        var (_, gateway) = await _cluster.StartAsync(_single.TrustingHandler(),
        [
            "--Cluster:Role=gateway", $"--urls=https://127.0.0.1:{_gatewayPort}",
            $"--Kestrel:Certificates:Default:Path={_single.Authority.ServerCertificatePath}",
            $"--Kestrel:Certificates:Default:KeyPath={_single.Authority.ServerKeyPath}",
            .. FederationArguments,
        ]);

        var alice = await ProcessCluster.RegisterAsync(gateway, "alice");
        var roomId = (await CallAsync(gateway, HttpMethod.Post, "/_matrix/client/v3/createRoom", alice,
            new { preset = "public_chat", room_alias_name = "bridge" })).GetProperty("room_id").GetString()!;
        var (bob, bobSync) = await FederatedMembers.UserAsync(_single, _single.Server, "bob");
        await bob.JoinAsync($"#bridge:{_clusterName}");
        var aliceSince = (await CallAsync(gateway, HttpMethod.Get, "/_matrix/client/v3/sync?timeout=0", alice)).GetProperty("next_batch").GetString()!;
        var aliceSeen = new List<string>();
        var bobSeen = await MessageLog.FromNowAsync(bobSync, roomId);

        async Task AliceSeesAsync(int count)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (aliceSeen.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"alice saw {aliceSeen.Count} of {count}: {string.Join(", ", aliceSeen)}");
                var sync = await CallAsync(gateway, HttpMethod.Get, $"/_matrix/client/v3/sync?timeout=1000&since={Uri.EscapeDataString(aliceSince)}", alice);
                aliceSince = sync.GetProperty("next_batch").GetString()!;
                if (sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.TryGetProperty(roomId, out var room))
                    aliceSeen.AddRange(FederatedMembers.Events(room, "timeline").Where(e => e.GetProperty("type").GetString() == "m.room.message")
                        .Select(e => e.GetProperty("content").GetProperty("body").GetString()!));
            }
        }

        var drains = Task.Run(async () =>
        {
            await Task.Delay(1000);
            for (var i = 0; i < silos.Count; i++)
            {
                silos[i].SendSigterm();
                Assert.Equal(0, await silos[i].WaitForExitAsync(ProcessCluster.StartTimeout));
                silos[i] = (await _cluster.StartAsync(FederationArguments)).Process;
                await Task.Delay(500);
            }
        });

        // Taking turns keeps the room linear; turns go on through every drain and a little after the last.
        var sent = new List<string>();
        for (var turn = 0; !drains.IsCompleted || turn % 4 != 0; turn++)
        {
            var body = $"{(turn % 2 == 0 ? "cluster" : "single")} {turn}";
            if (turn % 2 == 0)
                await CallAsync(gateway, HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/t{turn}", alice,
                    new { msgtype = "m.text", body });
            else
                await bob.SendTextAsync(roomId, body);
            sent.Add(body);
            await AliceSeesAsync(sent.Count);
            await bobSeen.WaitForAsync(sent.Count, Patience);
        }
        await drains;
        await AliceSeesAsync(sent.Count);
        await bobSeen.SyncOnceAsync();

        output.WriteLine($"{sent.Count} messages, {sent.Count / 2} through the draining cluster");
        Assert.True(sent.Count >= 8, $"only {sent.Count} turns were taken while the silos drained");
        Assert.Equal(sent, aliceSeen);
        Assert.Equal(sent, bobSeen.Bodies);
    }
}
