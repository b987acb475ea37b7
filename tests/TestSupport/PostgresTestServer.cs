using System.Diagnostics;
using System.Text.RegularExpressions;

namespace HomeServer.TestSupport;

/// <summary>
/// The PostgreSQL server tests use: the one named by <c>HOMESERVER_TEST_POSTGRES</c> (an Npgsql connection
/// string, e.g. from <c>eval "$(scripts/postgres.sh start)"</c>), or else a private server this process
/// starts with scripts/postgres.sh and stops when it exits. When neither works, it throws: tests that need
/// PostgreSQL fail, they never skip.
/// </summary>
public static partial class PostgresTestServer
{
    public const string EnvironmentVariable = "HOMESERVER_TEST_POSTGRES";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private static readonly Lazy<Task<string>> Server = new(ResolveAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connection string of the server (admin user, maintenance database).</summary>
    public static Task<string> GetConnectionStringAsync() => Server.Value;

    private static async Task<string> ResolveAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }
        return await StartPrivateServerAsync();
    }

    private static async Task<string> StartPrivateServerAsync()
    {
        var script = FindScript();
        var stateFile = Path.Combine(Path.GetTempPath(), $"homeserver-test-postgres-{Environment.ProcessId}-{Guid.NewGuid():N}.state");
        var (exitCode, stdout, stderr) = await RunScriptAsync(script, "start", stateFile, StartTimeout);
        var match = ExportLine().Match(stdout);
        if (exitCode != 0 || !match.Success)
        {
            await RunScriptAsync(script, "stop", stateFile, TimeSpan.FromMinutes(1));
            throw new InvalidOperationException(
                $"PostgreSQL is required for these tests. {EnvironmentVariable} is not set, and starting a private server " +
                $"with {script} failed (exit code {exitCode}).\n{stderr}{stdout}");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            RunScriptAsync(script, "stop", stateFile, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        return match.Groups[1].Value;
    }

    private static string FindScript()
    {
        var root = Environment.GetEnvironmentVariable("HOMESERVER_REPO_ROOT");
        if (!string.IsNullOrEmpty(root))
        {
            return Path.Combine(root, "scripts", "postgres.sh");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "postgres.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException(
            $"PostgreSQL is required for these tests. {EnvironmentVariable} is not set, and scripts/postgres.sh was not found " +
            $"above {AppContext.BaseDirectory} to start a private server (set HOMESERVER_REPO_ROOT).");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunScriptAsync(
        string script, string command, string stateFile, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { script, command },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["HOMESERVER_PG_STATE"] = stateFile;
        start.Environment["HOMESERVER_PG_OWNER_PID"] = Environment.ProcessId.ToString();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start bash.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeoutSource = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, await stdout, $"{script} {command} timed out after {timeout}.\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex("HOMESERVER_TEST_POSTGRES='([^']*)'")]
    private static partial Regex ExportLine();
}
