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
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync("typing-move.test");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_typing_change_reaches_the_watchers_js_sdk_sync_loop_after_each_move_of_every_grain()
    {
        var clients = RealClientTests.FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "matrix-js-sdk")),
            $"matrix-js-sdk is not installed in {clients}: run `npm install` there (./test.sh does).");
        var run = new DrainingClientRun(_cluster);

        int exitCode;
        try
        {
            exitCode = await run.RunAsync("typing-move.mjs", line => line.StartsWith("MOVE ", StringComparison.Ordinal), "MOVED", NodeTimeout);
        }
        finally
        {
            log.WriteLine(run.Output);
        }

        Assert.True(exitCode == 0, $"typing-move.mjs exited with {exitCode}:\n{RealClientTests.Tail(run.Output, 20_000)}");
        Assert.True(run.Drains > 0, $"typing-move.mjs never asked for a move:\n{RealClientTests.Tail(run.Output, 20_000)}");
    }
}
