using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HomeServer.LoadGenerator.Output;

/// <summary>Writes results/&lt;scenario&gt;-&lt;time&gt;.json, .md and .svg and prints the Markdown table.</summary>
public static class ResultWriter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Write(string outputDirectory, RunResult result, MachineInfo machine)
    {
        var startedAt = result.StartedAt;
        Directory.CreateDirectory(outputDirectory);
        var stem = Path.Combine(outputDirectory, $"{result.Scenario}-{startedAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        var document = new Dictionary<string, object?>
        {
            ["scenario"] = result.Scenario,
            ["started_at"] = startedAt.ToString("O", CultureInfo.InvariantCulture),
            ["machine"] = machine,
            ["parameters"] = result.Parameters,
            ["measured"] = result.Measured,
        };
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(document, Json));
        var table = MarkdownTable(result, machine);
        File.WriteAllText(stem + ".md", table);
        File.WriteAllText(stem + ".svg", result.Svg);
        Console.WriteLine();
        Console.WriteLine(table);
        Console.WriteLine($"results: {stem}.json, .md, .svg");
        return stem;
    }

    public static string MarkdownTable(RunResult result, MachineInfo machine)
    {
        var startedAt = result.StartedAt;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### {result.Scenario} — {startedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Parameters: {string.Join(", ", result.Parameters.Select(p => $"{p.Key}={Format(p.Value)}"))}. " +
            $"Load average at the start of the program: {machine.LoadAverageAtStart}.");
        text.AppendLine();
        text.AppendLine("| Measure | Value |");
        text.AppendLine("|---|---|");
        foreach (var (name, value) in result.TableRows) text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {value} |");
        return text.ToString();
    }

    public static string Format(object? value) => value switch
    {
        null => "–",
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>The machine the run happened on: what a reader needs to judge the numbers.</summary>
public sealed record MachineInfo(int ProcessorCount, string LoadAverageAtStart, string Os, string Runtime)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        LoadAverage(),
        System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);

    /// <summary>The 1, 5 and 15 minute load averages: on two shared cores, the context every number needs.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>CPU seconds this generator process has used: its share of the two cores.</summary>
    public static double GeneratorCpuSeconds() => Math.Round(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, 2);
}
