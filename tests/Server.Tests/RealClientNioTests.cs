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

    private static Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string? baseUrl, TimeSpan timeout) =>
        RealClientTests.RunClientAsync(program, arguments, null, baseUrl, timeout, "the nio test needs Python 3 with python3-matrix-nio");
}

public sealed class SqliteRealClientNioTests : RealClientNioTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRealClientNioTests : RealClientNioTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
