using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// The real matrix-js-sdk (tests/clients/typing-move.mjs: a typer and a watcher, each with its own sync loop through a
/// gateway) while every grain moves again and again: whenever the script prints <c>MOVE &lt;round&gt;</c>, both silos are
/// replaced and drained, then the script reads <c>MOVED</c> and checks that each typing change reaches the watcher.
/// Both sync loops keep their long-polls open through the gateway during the moves. Fails, never skips, when node or
/// the client's node_modules are missing.
/// </summary>
public sealed class RealClientTypingAfterMoveTests(ITestOutputHelper log) : IAsyncLifetime
{
    // Twelve moves; on Orleans replacing and draining two silos takes 14–29 s here (bench/RESULTS.md, drain).
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(6);
    private const string MoveRequest = "MOVE ";
    private readonly List<ServerProcess> _silos = [];
    private readonly StringBuilder _output = new();
    private int _moves;
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("typing-move.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_typing_change_reaches_the_watchers_js_sdk_sync_loop_after_each_move_of_every_grain()
    {
        var clients = RealClientTests.FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "matrix-js-sdk")),
            $"matrix-js-sdk is not installed in {clients}: run `npm install` there (./test.sh does).");
        for (var i = 0; i < 2; i++) _silos.Add((await _cluster.StartAsync()).Process);
        var (_, gateway) = await _cluster.StartAsync("--Cluster:Role=gateway");

        using var node = StartNode(clients, gateway.BaseAddress!.ToString().TrimEnd('/'));
        try
        {
            await AnswerMoveRequestsUntilExitAsync(node);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
            log.WriteLine(Output());
        }

        Assert.True(node.ExitCode == 0, $"typing-move.mjs exited with {node.ExitCode}:\n{RealClientTests.Tail(Output(), 20_000)}");
        Assert.True(_moves > 0, $"typing-move.mjs never asked for a move:\n{RealClientTests.Tail(Output(), 20_000)}");
    }

    private Process StartNode(string workingDirectory, string baseUrl)
    {
        var start = new ProcessStartInfo("node", ["typing-move.mjs"])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["HOMESERVER_BASE_URL"] = baseUrl;
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

    private async Task AnswerMoveRequestsUntilExitAsync(Process node)
    {
        using var timeout = new CancellationTokenSource(NodeTimeout);
        try
        {
            while (await node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Record(line);
                if (!line.StartsWith(MoveRequest, StringComparison.Ordinal)) continue;
                var moving = Stopwatch.StartNew();
                await MoveEveryGrainAsync();
                _moves++;
                Record($"[host] replaced and drained both silos in {moving.ElapsedMilliseconds} ms");
                await node.StandardInput.WriteLineAsync("MOVED");
                await node.StandardInput.FlushAsync();
            }
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"typing-move.mjs did not finish within {NodeTimeout}:\n{RealClientTests.Tail(Output(), 20_000)}");
        }
    }

    /// <summary>
    /// Which silo hosts which grain is not visible from outside: each silo in turn is replaced first, then drained, so
    /// every grain (the room's, both users' sync grains) lands on a silo that did not exist before the move.
    /// </summary>
    private async Task MoveEveryGrainAsync()
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
