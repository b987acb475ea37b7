using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// tests/clients/e2ee-crypto.mjs (matrix-js-sdk with its Rust crypto: an encrypted room, cross-signing, key backup
/// and forwarded keys) against two silos behind a gateway, drained in the middle of the encrypted exchange: when the
/// script prints <c>DRAIN</c> it keeps sending and syncing while each silo in turn is replaced and drained, then reads
/// <c>DRAINED</c> and checks that every device decrypted every message, and goes on with the keys' steps. Fails, never skips, when node or
/// the client's node_modules are missing.
/// </summary>
public sealed class RealClientCryptoDrainTests(ITestOutputHelper log) : IAsyncLifetime
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(5);
    private const string DrainRequest = "DRAIN";
    private readonly StringBuilder _output = new();
    private readonly List<ServerProcess> _silos = [];
    private int _drains;
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("e2ee-drain.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_device_decrypts_every_message_and_gets_the_keys_while_a_silo_drains()
    {
        var clients = RealClientTests.FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "@matrix-org", "matrix-sdk-crypto-wasm")),
            $"matrix-sdk-crypto-wasm is not installed in {clients}: run `npm install` there (./test.sh does).");
        for (var i = 0; i < 2; i++) _silos.Add((await _cluster.StartAsync()).Process);
        var (_, gateway) = await _cluster.StartAsync("--Cluster:Role=gateway");

        using var node = StartNode(clients, gateway.BaseAddress!.ToString().TrimEnd('/'));
        try
        {
            await AnswerDrainRequestsUntilExitAsync(node);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
            log.WriteLine(Output());
        }

        Assert.True(node.ExitCode == 0, $"e2ee-crypto.mjs exited with {node.ExitCode}:\n{RealClientTests.Tail(Output(), 20_000)}");
        Assert.True(_drains == 1, $"e2ee-crypto.mjs asked for {_drains} drains instead of one:\n{RealClientTests.Tail(Output(), 20_000)}");
    }

    private Process StartNode(string workingDirectory, string baseUrl)
    {
        var start = new ProcessStartInfo("node", ["e2ee-crypto.mjs"])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["HOMESERVER_BASE_URL"] = baseUrl;
        start.Environment["HOMESERVER_DRAIN_ON_REQUEST"] = "1";
        var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Record(e.Data); };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"node could not be started ({e.Message}); the real-client tests need Node.js on PATH.");
        }
        process.BeginErrorReadLine();
        return process;
    }

    private async Task AnswerDrainRequestsUntilExitAsync(Process node)
    {
        using var timeout = new CancellationTokenSource(NodeTimeout);
        try
        {
            while (await node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Record(line);
                if (line != DrainRequest) continue;
                var draining = Stopwatch.StartNew();
                await DrainEverySiloAsync();
                _drains++;
                Record($"[host] replaced and drained both silos in {draining.ElapsedMilliseconds} ms");
                await node.StandardInput.WriteLineAsync("DRAINED");
                await node.StandardInput.FlushAsync();
            }
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"e2ee-crypto.mjs did not finish within {NodeTimeout}:\n{RealClientTests.Tail(Output(), 20_000)}");
        }
    }

    /// <summary>
    /// Which silo hosts which grain is not visible from outside: each silo in turn is replaced first, then sent SIGTERM
    /// (it drains, handing its grains over, and must exit cleanly), so every grain — the room's, the users' and their
    /// devices' sync and to-device grains — moves while the clients keep sending and syncing.
    /// </summary>
    private async Task DrainEverySiloAsync()
    {
        for (var i = 0; i < _silos.Count; i++)
        {
            var replacement = (await _cluster.StartAsync()).Process;
            _silos[i].SendSigterm();
            Assert.Equal(0, await _silos[i].WaitForExitAsync(ProcessCluster.StartTimeout));
            _silos[i] = replacement;
        }
    }

    private void Record(string line)
    {
        lock (_output) _output.AppendLine(line);
    }

    private string Output()
    {
        lock (_output) return _output.ToString();
    }
}
