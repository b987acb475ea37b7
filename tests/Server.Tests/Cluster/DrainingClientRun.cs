using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Runs a script of tests/clients (node) against two silos behind a gateway. Whenever the script prints a line the
/// caller names as a request, every silo in turn is replaced first, then sent SIGTERM (it drains, handing its grains
/// over, and must exit cleanly), so every grain lands on a silo that did not exist before; then the script reads the
/// reply line and goes on. Which silo hosts which grain is not visible from outside, hence all of them.
/// </summary>
internal sealed class DrainingClientRun(ProcessCluster cluster)
{
    private readonly StringBuilder _output = new();
    private readonly List<ServerProcess> _silos = [];

    /// <summary>How many requests were answered.</summary>
    public int Drains { get; private set; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts the cluster and the script, answers its requests and returns its exit code.</summary>
    public async Task<int> RunAsync(
        string script, Func<string, bool> isRequest, string reply, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        for (var i = 0; i < 2; i++) _silos.Add((await cluster.StartAsync()).Process);
        var (_, gateway) = await cluster.StartAsync("--Cluster:Role=gateway");

        using var node = StartNode(script, gateway.BaseAddress!.ToString().TrimEnd('/'), environment);
        try
        {
            await AnswerRequestsUntilExitAsync(node, script, isRequest, reply, timeout);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
        return node.ExitCode;
    }

    private Process StartNode(string script, string baseUrl, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("node", [script])
        {
            WorkingDirectory = RealClientTests.FindClientsDirectory(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["HOMESERVER_BASE_URL"] = baseUrl;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
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

    private async Task AnswerRequestsUntilExitAsync(Process node, string script, Func<string, bool> isRequest, string reply, TimeSpan timeout)
    {
        using var expiry = new CancellationTokenSource(timeout);
        try
        {
            while (await node.StandardOutput.ReadLineAsync(expiry.Token) is { } line)
            {
                Record(line);
                if (!isRequest(line)) continue;
                var draining = Stopwatch.StartNew();
                await DrainEverySiloAsync();
                Drains++;
                Record($"[host] replaced and drained both silos in {draining.ElapsedMilliseconds} ms");
                await node.StandardInput.WriteLineAsync(reply);
                await node.StandardInput.FlushAsync();
            }
            await node.WaitForExitAsync(expiry.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{script} did not finish within {timeout}:\n{RealClientTests.Tail(Output, 20_000)}");
        }
    }

    private async Task DrainEverySiloAsync()
    {
        for (var i = 0; i < _silos.Count; i++)
        {
            var replacement = (await cluster.StartAsync()).Process;
            _silos[i].SendSigterm();
            Assert.Equal(0, await _silos[i].WaitForExitAsync(ProcessCluster.StartTimeout));
            _silos[i] = replacement;
        }
    }

    private void Record(string line)
    {
        lock (_output) _output.AppendLine(line);
    }
}
