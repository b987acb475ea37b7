using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

/// <summary>
/// Runs tests/clients/nio_client_test.py (Debian's python3-matrix-nio, a client of the r0 API) against a real server.
/// Fails, never skips, when Python or nio is missing: ./test.sh installs python3-matrix-nio first.
/// </summary>
public abstract class RealClientNioTests
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(2);
    // Debian's interpreter, where python3-matrix-nio is installed, even when another python3 comes first on PATH.
    private static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    protected abstract Task<StoreBackend> CreateBackendAsync();

    [Fact]
    public async Task Matrix_nio_logs_in_creates_invites_joins_chats_reads_history_and_transfers_a_file_over_r0()
    {
        var script = Path.Combine(RealClientTests.FindClientsDirectory(), "nio_client_test.py");
        var (probeExit, probeOutput) = await RunAsync(Python, ["-c", "import nio"], null, TimeSpan.FromSeconds(30));
        Assert.True(probeExit == 0, $"matrix-nio is not importable by {Python} (./test.sh installs python3-matrix-nio):\n{probeOutput}");
        await using var backend = await CreateBackendAsync();
        await using var server = await backend.StartServerAsync();

        var (exitCode, output) = await RunAsync(Python, [script], server.Client.BaseAddress!.ToString().TrimEnd('/'), ScriptTimeout);

        Assert.True(exitCode == 0, $"{script} exited with {exitCode}:\n{RealClientTests.Tail(output, 20_000)}");
        Assert.Contains("room_messages: ok", output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string? baseUrl, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (baseUrl is not null) start.Environment["HOMESERVER_BASE_URL"] = baseUrl;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"{program} could not be started ({e.Message}); the nio test needs Python 3 with python3-matrix-nio.");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish within {timeout}:\n{RealClientTests.Tail(output.ToString(), 20_000)}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}

public sealed class SqliteRealClientNioTests : RealClientNioTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRealClientNioTests : RealClientNioTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
