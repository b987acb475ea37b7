using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.TestSupport;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// The <c>deploy/local</c> cluster (3 silos, 2 gateways, nginx in front) driven only through its scripts, exactly
/// as deploy/RUNBOOK.md tells an operator, on free loopback ports and a private run directory. Clients talk to
/// nginx. The program is the build next to the tests (<c>HOMESERVER_LOCAL_DLL</c>) instead of a Release build.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    public const int SiloCount = 3;
    public const int GatewayCount = 2;

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(3);

    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, string> _environment;
    private readonly PostgresTestDatabase? _database;
    private readonly int[] _siloHttpPorts;

    private LocalCluster(ITestOutputHelper output, string runDirectory, Dictionary<string, string> environment, PostgresTestDatabase? database,
        int[] siloHttpPorts, int nginxPort)
    {
        _output = output;
        RunDirectory = runDirectory;
        _environment = environment;
        _database = database;
        _siloHttpPorts = siloHttpPorts;
        Client = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{nginxPort}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static HttpClient StatusClient { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public string RunDirectory { get; }

    /// <summary>Through nginx, as every client of the cluster.</summary>
    public HttpClient Client { get; }

    /// <summary>
    /// Runs <c>deploy/local/start.sh</c>. With <paramref name="ownPostgres"/> the script starts its own throwaway
    /// PostgreSQL (which the test may then stop and start); otherwise it gets a fresh database on the test server.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(ITestOutputHelper output, bool ownPostgres = false)
    {
        var runDirectory = TemporaryDirectory.NewPath();
        Directory.CreateDirectory(runDirectory);
        var database = ownPostgres ? null : await PostgresTestDatabase.CreateAsync();
        var ports = FreeTcpPorts.Take(3 * SiloCount + GatewayCount + 1);
        var siloHttp = ports[..SiloCount];
        var environment = new Dictionary<string, string>
        {
            ["HOMESERVER_LOCAL_RUN"] = runDirectory,
            ["HOMESERVER_LOCAL_PORT"] = ports[^1].ToString(),
            ["HOMESERVER_LOCAL_SILO_HTTP_PORTS"] = string.Join(' ', siloHttp),
            ["HOMESERVER_LOCAL_SILO_CLUSTER_PORTS"] = string.Join(' ', ports[SiloCount..(2 * SiloCount)]),
            ["HOMESERVER_LOCAL_SILO_GATEWAY_PORTS"] = string.Join(' ', ports[(2 * SiloCount)..(3 * SiloCount)]),
            ["HOMESERVER_LOCAL_GATEWAY_HTTP_PORTS"] = string.Join(' ', ports[(3 * SiloCount)..^1]),
            ["HOMESERVER_LOCAL_DLL"] = Path.Combine(AppContext.BaseDirectory, "HomeServer.Silo.dll"),
            // Process logs that can be laid beside the test's own timeline.
            ["HOMESERVER_Logging__Console__FormatterName"] = "simple",
            ["HOMESERVER_Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
            ["HOMESERVER_Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
        };
        if (database is not null) environment["HOMESERVER_LOCAL_POSTGRES"] = database.ConnectionString;
        var cluster = new LocalCluster(output, runDirectory, environment, database, siloHttp, ports[^1]);
        try
        {
            await cluster.RunAsync("deploy/local/start.sh", "--Cluster:BuildVersion=1.0.0", "--PasswordHashing:Iterations=1000",
                $"--Registration:SharedSecret={ProcessCluster.SharedSecret}");
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary><c>deploy/local/drain-silo.sh N</c>: drain silo N (1-based), start it again with the extra settings, wait until ready.</summary>
    public Task DrainSiloAsync(int silo, params string[] extra) => RunAsync("deploy/local/drain-silo.sh", [silo.ToString(), .. extra]);

    /// <summary><c>deploy/local/drain-gateway.sh N</c>.</summary>
    public Task DrainGatewayAsync(int gateway, params string[] extra) => RunAsync("deploy/local/drain-gateway.sh", [gateway.ToString(), .. extra]);

    /// <summary>SIGKILL of silo N's process group, as <c>kill -9</c> in the runbook's crash drill.</summary>
    public void KillSilo(int silo) => KillProcessGroup($"silo{silo}");

    /// <summary>SIGKILL of gateway N's process group; <see cref="DrainGatewayAsync"/> starts it again.</summary>
    public void KillGateway(int gateway) => KillProcessGroup($"gateway{gateway}");

    private void KillProcessGroup(string name)
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(RunDirectory, $"{name}.pid")).Trim());
        if (Kill(-pid, 9) != 0) throw new InvalidOperationException($"kill -9 -{pid} failed with errno {Marshal.GetLastPInvokeError()}");
        _output.WriteLine($"[{DateTime.UtcNow:HH:mm:ss.fff}] kill -9 {name} (process group {pid})");
    }

    public bool IsRunning(string name)
    {
        var pidFile = Path.Combine(RunDirectory, $"{name}.pid");
        return File.Exists(pidFile) && Kill(int.Parse(File.ReadAllText(pidFile).Trim()), 0) == 0;
    }

    /// <summary><c>scripts/postgres.sh pause</c> / <c>resume</c> on the cluster's own PostgreSQL.</summary>
    public Task PausePostgresAsync() => RunAsync("scripts/postgres.sh", "pause");

    public Task ResumePostgresAsync() => RunAsync("scripts/postgres.sh", "resume");

    /// <summary>The membership as the admin API lists it: silo id → status (Joining, Active, ShuttingDown, Dead).</summary>
    public async Task<Dictionary<string, string>> ReadMembershipAsync(string admin) =>
        (await ProcessCluster.CallAsync(Client, HttpMethod.Get, "/_homeserver/admin/silos", admin)).GetProperty("silos").EnumerateArray()
            .ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("status").GetString()!);

    /// <summary>Polls the admin API until <paramref name="silo"/> has <paramref name="status"/>; 503s while the cluster recovers are retried.</summary>
    public async Task WaitForMembershipStatusAsync(string admin, string silo, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if ((await ReadMembershipAsync(admin)).GetValueOrDefault(silo) == status) return;
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{silo} never became {status}.");
            await Task.Delay(100);
        }
    }

    /// <summary>What each silo reports at <c>/_homeserver/silo</c>: status, build and hosted grains.</summary>
    public Task<SiloReport[]> ReadSilosAsync() => Task.WhenAll(Enumerable.Range(1, SiloCount).Select(ReadSiloAsync));

    public async Task<SiloReport> ReadSiloAsync(int silo)
    {
        try
        {
            var body = await StatusClient.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{_siloHttpPorts[silo - 1]}/_homeserver/silo");
            return new SiloReport(body.GetProperty("silo").GetString(), body.GetProperty("status").GetString()!,
                body.GetProperty("build_version").GetString(), body.GetProperty("grains").GetInt32());
        }
        catch (HttpRequestException)
        {
            return new SiloReport(null, "Unreachable", null, 0);
        }
    }

    /// <summary>Polls silo N until it reports Active under an address other than <paramref name="previous"/>.</summary>
    public async Task WaitUntilActiveAgainAsync(int silo, string? previous, CancellationToken cancellationToken)
    {
        while (true)
        {
            var report = await ReadSiloAsync(silo);
            if (report.Status == "Active" && report.Address != previous) return;
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until every silo is Active and hosts within ±<paramref name="tolerance"/> of an even share of the
    /// grains; returns how long that took and the last counts.
    /// </summary>
    public async Task<(TimeSpan Elapsed, SiloReport[] Silos)> WaitUntilBalancedAsync(double tolerance, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var silos = await ReadSilosAsync();
            if (IsBalanced(silos, tolerance)) return (clock.Elapsed, silos);
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"Grains never balanced within ±{tolerance:P0}: {string.Join(", ", silos.Select(s => $"{s.Status} {s.Grains}"))}");
            await Task.Delay(250);
        }
    }

    /// <summary>Waits until every silo is Active and hosts grains again (after drains, grains move back to restarted silos).</summary>
    public async Task WaitUntilEverySiloHostsGrainsAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var silos = await ReadSilosAsync();
            if (silos.All(s => s.Status == "Active" && s.Grains > 0)) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Not every silo hosts grains: {string.Join(", ", silos.Select(s => $"{s.Status} {s.Grains}"))}");
            await Task.Delay(250);
        }
    }

    public static bool IsBalanced(SiloReport[] silos, double tolerance)
    {
        if (silos.Any(s => s.Status != "Active")) return false;
        var even = silos.Sum(s => s.Grains) / (double)silos.Length;
        return even > 0 && silos.All(s => Math.Abs(s.Grains - even) <= tolerance * even);
    }

    /// <summary>The last lines of a process's log in the run directory, for failure messages.</summary>
    public string LogTail(string name, int lines = 40)
    {
        var path = Path.Combine(RunDirectory, $"{name}.log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no log)";
    }

    public string LogOf(string name)
    {
        var path = Path.Combine(RunDirectory, $"{name}.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    private async Task RunAsync(string script, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        startInfo.ArgumentList.Add(Path.Combine(RepositoryRoot, script));
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);
        foreach (var (key, value) in _environment) startInfo.Environment[key] = value;
        startInfo.Environment["HOMESERVER_PG_STATE"] = Path.Combine(RunDirectory, "postgres.state");

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} {string.Join(' ', arguments)} did not finish in {ScriptTimeout}:\n{await stderr}");
        }
        var log = (await stderr).TrimEnd();
        _output.WriteLine($"[{DateTime.UtcNow:HH:mm:ss.fff}] {script} {string.Join(' ', arguments)} ({clock.Elapsed.TotalSeconds:0.0} s)\n{log}");
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}\n{log}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await RunAsync("deploy/local/stop.sh");
        }
        catch (Exception exception)
        {
            _output.WriteLine($"stop.sh failed: {exception.Message}");
        }
        if (_database is not null) await _database.DisposeAsync();
        if (Environment.GetEnvironmentVariable("HOMESERVER_KEEP_CLUSTER_LOGS") == "1")
            _output.WriteLine($"logs kept in {RunDirectory}");
        else
            TemporaryDirectory.Delete(RunDirectory);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "deploy", "local", "start.sh"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No deploy/local/start.sh above {AppContext.BaseDirectory}.");
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}

internal sealed record SiloReport(string? Address, string Status, string? BuildVersion, int Grains);
