using System.Diagnostics;
using System.Net;

namespace HomeServer.FederationBench;

/// <summary>
/// One server of this project as a child process (Release build, SQLite in its own data directory, HTTPS on a fixed
/// loopback port so that it keeps its server name across restarts), started, stopped with SIGTERM and started again.
/// </summary>
internal sealed class ServerProcess(string siloDll, int port, string dataDirectory, string logPath, IReadOnlyList<string> arguments) : IAsyncDisposable
{
    private Process? _process;

    public string Name => $"127.0.0.1:{port}";

    public Uri BaseUrl => new($"https://127.0.0.1:{port}");

    public string DatabasePath => Path.Combine(dataDirectory, "homeserver.db");

    public int Pid => _process?.Id ?? throw new InvalidOperationException("not running");

    public bool Running => _process is { HasExited: false };

    public async Task StartAsync(HttpClient http)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.Environment["BENCH_SERVER_LOG"] = logPath;
        foreach (var argument in (string[])["-c", "exec \"$0\" \"$@\" >>\"$BENCH_SERVER_LOG\" 2>&1", "dotnet", siloDll,
                     $"--urls=https://127.0.0.1:{port}", $"--ServerName={Name}", $"--DataDirectory={dataDirectory}", .. arguments])
            start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("the server did not start");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server {Name} exited; see {logPath}");
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUrl, "/health/ready"));
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the server {Name} was not ready in 2 minutes");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGTERM, as an operator stops it; killed if it has not exited after a minute.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Resident memory of the process (VmRSS), in MiB.</summary>
    public double RssMiB()
    {
        if (!Running) return 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        return 0;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
