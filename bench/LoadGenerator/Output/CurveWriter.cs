using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.LoadGenerator.Output;

/// <summary>
/// Reads the result files of a curve's runs and writes results/curve-&lt;scenario&gt;-&lt;time&gt;.json, .md and .svg: per point
/// the medians of its runs; prints the Markdown table.
/// </summary>
public static class CurveWriter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Write(string outputDirectory, IReadOnlyList<string> resultFiles, MachineInfo machine)
    {
        if (resultFiles.Count == 0) throw new ArgumentException("A curve needs the result files of its runs.");
        var results = resultFiles.Select(file => JsonNode.Parse(File.ReadAllText(file)) ?? throw new ArgumentException($"{file} is empty.")).ToArray();
        var scenarios = results.Select(r => r["scenario"]?.GetValue<string>() ?? "").Distinct().ToArray();
        if (scenarios.Length != 1) throw new ArgumentException($"The results are of several scenarios: {string.Join(", ", scenarios)}.");
        var scenario = scenarios[0];
        var kind = CurveKind.Of(scenario);
        var points = ScaleCurve.Aggregate(results.Select(r => ScaleCurve.ReadRun(kind, r)));
        var fixedParameters = FixedParameters(kind, results);
        var pointAxis = kind == CurveKind.Throughput && fixedParameters.TryGetValue("members", out var members)
            ? $"rooms of {members} members" : kind.PointAxis;

        var startedAt = DateTimeOffset.UtcNow;
        Directory.CreateDirectory(outputDirectory);
        var stem = Path.Combine(outputDirectory, $"curve-{scenario}-{startedAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        var document = new Dictionary<string, object?>
        {
            ["scenario"] = $"curve-{scenario}",
            ["written_at"] = startedAt.ToString("O", CultureInfo.InvariantCulture),
            ["machine"] = machine,
            ["point_parameter"] = kind.PointParameter,
            ["fixed_parameters"] = fixedParameters,
            ["points"] = points.Select(p => new Dictionary<string, object?>
            {
                [kind.PointParameter] = p.Point,
                ["runs"] = p.Runs,
                ["p50_ms"] = Round(p.P50Ms),
                ["p99_ms"] = Round(p.P99Ms),
                ["events_per_s"] = Round(p.EventsPerSecond),
                ["server_cpu_ms_per_event"] = Round(p.ServerCpuMsPerEvent, 4),
                ["postgres_cpu_ms_per_event"] = Round(p.PostgresCpuMsPerEvent, 4),
                ["server_rss_mib_peak"] = Round(p.PeakRssMib),
                ["load_averages_at_start"] = p.LoadAverages,
            }).ToArray(),
            ["result_files"] = resultFiles,
        };
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(document, Json));
        var table = MarkdownTable(scenario, kind, points, fixedParameters, startedAt, machine);
        File.WriteAllText(stem + ".md", table);
        File.WriteAllText(stem + ".svg", CurveChart.Draw($"{scenario}: scale curve — {kind.Latency} and CPU per {kind.Events.TrimEnd('s')}", kind, points, pointAxis));
        Console.WriteLine();
        Console.WriteLine(table);
        Console.WriteLine($"curve: {stem}.json, .md, .svg");
        return stem;
    }

    public static string MarkdownTable(string scenario, CurveKind kind, IReadOnlyList<CurvePoint> points, IReadOnlyDictionary<string, object?> fixedParameters,
        DateTimeOffset writtenAt, MachineInfo machine)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### curve-{scenario} — {writtenAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Fixed parameters: {string.Join(", ", fixedParameters.Select(p => $"{p.Key}={ResultWriter.Format(p.Value)}"))}. " +
            $"Each value is the median of the point's runs (each column's median taken separately). Load average when the curve was written: {machine.LoadAverageAtStart}.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"| {kind.PointParameter} | runs | {kind.Latency} p50 | p99 | {kind.Events}/s | server CPU ms per event (× first point) | PostgreSQL CPU ms per event | server peak RSS MiB | load average at each run's start |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        var firstCpu = points.Count == 0 ? null : points[0].ServerCpuMsPerEvent;
        foreach (var p in points)
        {
            var growth = p.ServerCpuMsPerEvent is { } cpu && firstCpu is > 0 ? $" (×{cpu / firstCpu.Value:0.##})" : "";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {p.Point:N0} | {p.Runs} | {Ms(p.P50Ms)} | {Ms(p.P99Ms)} | {ResultWriter.Format(Round(p.EventsPerSecond))} | {ResultWriter.Format(Round(p.ServerCpuMsPerEvent, 4))}{growth} | " +
                $"{ResultWriter.Format(Round(p.PostgresCpuMsPerEvent, 4))} | {ResultWriter.Format(Round(p.PeakRssMib))} | {string.Join("; ", p.LoadAverages)} |");
        }
        return text.ToString();
    }

    /// <summary>The parameters every run shares, except the point and the run's name.</summary>
    private static Dictionary<string, object?> FixedParameters(CurveKind kind, JsonNode[] results)
    {
        var shared = new Dictionary<string, object?>();
        if (results[0]["parameters"] is not JsonObject first) return shared;
        foreach (var (name, value) in first)
        {
            if (name == kind.PointParameter || name == "run") continue;
            if (results.All(r => JsonNode.DeepEquals(r["parameters"]?[name], value))) shared[name] = value?.DeepClone();
        }
        return shared;
    }

    private static string Ms(double? ms) => ms is null ? "–" : SvgCharts.FormatMs(ms.Value);

    private static double? Round(double? value, int digits = 2) => value is null ? null : Math.Round(value.Value, digits);
}
