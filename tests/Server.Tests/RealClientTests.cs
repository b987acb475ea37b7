using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

/// <summary>
/// Runs tests/clients (the real matrix-js-sdk, with its own sync loop) against a real server. Fails, never skips,
/// when node or the client's node_modules are missing: ./test.sh runs npm install in tests/clients first.
/// </summary>
public abstract class RealClientTests
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(3);

    protected abstract Task<StoreBackend> CreateBackendAsync();

    [Fact]
    public async Task The_matrix_js_sdk_registers_chats_types_reads_renames_redacts_paginates_and_leaves()
    {
        var clients = FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "matrix-js-sdk")),
            $"matrix-js-sdk is not installed in {clients}: run `npm install` there (./test.sh does).");
        await using var backend = await CreateBackendAsync();
        await using var server = await backend.StartServerAsync();

        var (exitCode, output) = await RunNodeTestAsync(clients, server.Client.BaseAddress!.ToString().TrimEnd('/'), NodeTimeout);

        Assert.True(exitCode == 0, $"node --test exited with {exitCode}:\n{Tail(output, 20_000)}");
    }

    /// <summary>Runs <c>node --test</c> on the given files (none: every *.test.mjs) against the server at baseUrl.</summary>
    internal static Task<(int ExitCode, string Output)> RunNodeTestAsync(
        string workingDirectory, string baseUrl, TimeSpan nodeTimeout, params string[] files) =>
        RunNodeTestAsync(workingDirectory, baseUrl, nodeTimeout, new Dictionary<string, string>(), files);

    /// <param name="environment">More environment variables for node (e.g. a second server's URL, extra CAs).</param>
    internal static Task<(int ExitCode, string Output)> RunNodeTestAsync(
        string workingDirectory, string baseUrl, TimeSpan nodeTimeout, IReadOnlyDictionary<string, string> environment, params string[] files) =>
        RunClientAsync("node", ["--test", "--test-reporter=spec", .. files], workingDirectory, baseUrl, nodeTimeout,
            "the real-client tests need Node.js on PATH", environment);

    /// <summary>
    /// Runs a client program with HOMESERVER_BASE_URL set (when given) and returns its exit code and its output, both
    /// streams interleaved; fails the test when it cannot start (saying what <paramref name="needs"/>) or overruns.
    /// </summary>
    internal static async Task<(int ExitCode, string Output)> RunClientAsync(
        string program, string[] arguments, string? workingDirectory, string? baseUrl, TimeSpan timeout, string needs,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (baseUrl is not null) start.Environment["HOMESERVER_BASE_URL"] = baseUrl;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
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
            Assert.Fail($"{program} could not be started ({e.Message}); {needs}.");
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
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within {timeout}:\n{Tail(output.ToString(), 20_000)}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    internal static string FindClientsDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "clients");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException($"tests/clients/package.json was not found above {AppContext.BaseDirectory}.");
    }

    internal static string Tail(string text, int length) => text.Length <= length ? text : "…" + text[^length..];
}

public sealed class SqliteRealClientTests : RealClientTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRealClientTests : RealClientTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
