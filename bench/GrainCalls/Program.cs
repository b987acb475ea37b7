using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using HomeServer.GrainCalls;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (args.Length == 0 || args[0] is not ("inproc" or "cross" or "all"))
{
    Console.Error.WriteLine("""
        usage: HomeServer.GrainCalls <inproc|cross|all> [options]
          --runs N           repeat each scenario N times and report the medians (default 1)
          --warmup S         seconds of warm-up before each measurement (default 1)
          --duration S       seconds measured (default 5)
          --grains N         grains called (default 64)
          --callers N        in-process concurrent callers (default 64)
          --outstanding A,B  cross-silo closed-loop levels of outstanding calls (default 64,256,1024)
          --from-silo        cross-silo caller is silo 1 calling grains on silo 2 (default: cluster client)
          --rate R           cross-silo: skip the peak search and run only the open loop at R calls/s
        """);
    return 2;
}

var scenario = args[0];
var runs = IntOption("--runs", 1);
var options = new ScenarioOptions(
    TimeSpan.FromSeconds(DoubleOption("--warmup", 1)),
    TimeSpan.FromSeconds(DoubleOption("--duration", 5)),
    IntOption("--grains", 64),
    IntOption("--callers", 64),
    (Option("--outstanding") ?? "64,256,1024").Split(',').Select(int.Parse).ToArray(),
    args.Contains("--from-silo"),
    Option("--rate") is { } rate ? double.Parse(rate) : null);

Console.WriteLine($"# Orleans grain calls: {scenario}");
Console.WriteLine();
Console.WriteLine($"- {Environment.ProcessorCount} cores, {CpuModel()}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, Orleans {OrleansVersion()}");
Console.WriteLine($"- GC: {(GCSettings.IsServerGC ? "server" : "workstation")}, load average at start: {LoadAverage()}, {CpuPressure()}");
Console.WriteLine($"- runs: {runs}, warm-up {options.Warmup.TotalSeconds} s, measured {options.Duration.TotalSeconds} s");
Console.WriteLine();

var rowsByRun = new List<List<Row>>();
for (var run = 1; run <= runs; run++)
{
    var rows = new List<Row>();
    if (scenario is "inproc" or "all") rows.AddRange(await Scenarios.InProcessAsync(options));
    if (scenario is "cross" or "all") rows.AddRange(await Scenarios.CrossSiloAsync(options));
    rowsByRun.Add(rows);
    Console.WriteLine($"## Run {run} of {runs}");
    Console.WriteLine();
    Console.WriteLine($"Load average after the run: {LoadAverage()}, {CpuPressure()}");
    Console.WriteLine();
    ResultTables.Print(rows);
}
if (runs > 1 && rowsByRun.Count > 0)
{
    Console.WriteLine($"## Median of {runs} runs (each column separately)");
    Console.WriteLine();
    ResultTables.Print(ResultTables.Median(rowsByRun));
}

return 0;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int IntOption(string name, int fallback) => Option(name) is { } text ? int.Parse(text) : fallback;

double DoubleOption(string name, double fallback) => Option(name) is { } text ? double.Parse(text) : fallback;

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";

// Pressure stall information: the share of the last 60 s in which some runnable task waited for a CPU.
static string CpuPressure() =>
    File.Exists("/proc/pressure/cpu")
        ? "CPU pressure (some, avg60) " + File.ReadLines("/proc/pressure/cpu").First().Split(' ')[2].Split('=')[1] + " %"
        : "no CPU pressure information";

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string OrleansVersion() =>
    typeof(IGrainFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split(' ', '+')[0].TrimEnd('.') ?? "unknown";
