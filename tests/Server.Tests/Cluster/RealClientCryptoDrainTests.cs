using HomeServer.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// tests/clients/e2ee-crypto.mjs (matrix-js-sdk with its Rust crypto: an encrypted room, cross-signing, key backup
/// and forwarded keys) against two silos behind a gateway, drained in the middle of the encrypted exchange: when the
/// script prints <c>DRAIN</c> it keeps sending and syncing while each silo in turn is replaced and drained (every
/// grain moves: the room's, the users' and their devices' sync and to-device grains), then reads <c>DRAINED</c>,
/// checks that every device decrypted every message, and goes on with the keys' steps. Fails, never skips, when node
/// or the client's node_modules are missing.
/// </summary>
public sealed class RealClientCryptoDrainTests(ITestOutputHelper log) : IAsyncLifetime
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(5);
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("e2ee-drain.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_device_decrypts_every_message_and_gets_the_keys_while_a_silo_drains()
    {
        var clients = RealClientTests.FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "@matrix-org", "matrix-sdk-crypto-wasm")),
            $"matrix-sdk-crypto-wasm is not installed in {clients}: run `npm install` there (./test.sh does).");
        var run = new DrainingClientRun(_cluster);

        int exitCode;
        try
        {
            exitCode = await run.RunAsync("e2ee-crypto.mjs", line => line == "DRAIN", "DRAINED", NodeTimeout,
                new Dictionary<string, string> { ["HOMESERVER_DRAIN_ON_REQUEST"] = "1" });
        }
        finally
        {
            log.WriteLine(run.Output);
        }

        Assert.True(exitCode == 0, $"e2ee-crypto.mjs exited with {exitCode}:\n{RealClientTests.Tail(run.Output, 20_000)}");
        Assert.True(run.Drains == 1, $"e2ee-crypto.mjs asked for {run.Drains} drains instead of one:\n{RealClientTests.Tail(run.Output, 20_000)}");
    }
}
