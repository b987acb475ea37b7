using BenchmarkDotNet.Reports;

namespace HomeServer.Runtime.Benchmarks;

/// <summary>Markdown tables of the results.</summary>
public static class ResultTables
{
    public static void PrintThroughput(IEnumerable<Row> rows)
    {
        Console.WriteLine("| Scenario | Load | Calls/s | p50 (µs) | p99 (µs) | max (µs) | Errors | CPU µs/call | Alloc B/call | Work items/call | Ctx switches/call | GCs (pause ms) | Hiccup p99 (µs) | Pacer lag p99 (µs) |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var row in rows)
        {
            var latency = row.Result.Latency;
            var lag = row.Result.PacerLag is { } pacer ? Micros(pacer.P99) : "–";
            Console.WriteLine($"| {row.Scenario} | {row.Load} | {row.Result.CallsPerSecond:N0} | {Micros(latency.P50)} | " +
                $"{Micros(latency.P99)} | {Micros(latency.Max)} | {row.Result.Errors} | {row.Result.CpuMicrosPerCall:0.00} | {row.Result.BytesPerCall:0} | {row.Result.WorkItemsPerCall:0.00} | {row.Result.ContextSwitchesPerCall:0.00} | {row.Result.Collections} ({row.Result.GcPauseMs:0}) | {Micros(row.Result.Hiccups.P99)} | {lag} |");
        }
        Console.WriteLine();
    }

    /// <summary>Rows of several runs of the same scenarios, reduced to one row per scenario with each figure's median.</summary>
    public static List<Row> Median(List<List<Row>> runs) =>
        Enumerable.Range(0, runs[0].Count).Select(i =>
        {
            var same = runs.Select(r => r[i]).ToList();
            var middle = same.OrderBy(r => r.Result.CallsPerSecond).ElementAt(same.Count / 2);
            var latency = new LatencySummary(
                Median(same, r => r.Result.Latency.P50),
                Median(same, r => r.Result.Latency.P99),
                Median(same, r => r.Result.Latency.Max));
            var lag = same[0].Result.PacerLag is null ? null
                : new LatencySummary(0, Median(same, r => r.Result.PacerLag!.P99), 0);
            return new Row(middle.Scenario, middle.Load, new Measurement(
                Median(same, r => r.Result.CallsPerSecond), latency, Median(same, r => r.Result.Errors), Median(same, r => r.Result.CpuMicrosPerCall),
                Median(same, r => r.Result.BytesPerCall),
                Median(same, r => r.Result.Collections), Median(same, r => r.Result.GcPauseMs),
                Median(same, r => r.Result.WorkItemsPerCall), Median(same, r => r.Result.ContextSwitchesPerCall),
                new LatencySummary(0, Median(same, r => r.Result.Hiccups.P99), 0), lag));
        }).ToList();

    private static T Median<T>(List<Row> rows, Func<Row, T> value) => rows.Select(value).Order().ElementAt(rows.Count / 2);

    public static void PrintProxy(IReadOnlyList<Summary> summaries)
    {
        Console.WriteLine("| Category | Benchmark | ns/op | Ratio | Allocated B/op |");
        Console.WriteLine("|---|---|--:|--:|--:|");
        var results = summaries
            .SelectMany(s => s.Reports.Where(r => r.ResultStatistics is not null).Select(r => (
                Category: r.BenchmarkCase.Descriptor.Categories.FirstOrDefault() ?? "",
                Name: r.BenchmarkCase.Descriptor.WorkloadMethod.Name,
                Baseline: r.BenchmarkCase.Descriptor.Baseline,
                Ns: r.ResultStatistics!.Median,
                Bytes: r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0)))
            .GroupBy(r => (r.Category, r.Name, r.Baseline))
            .Select(g => (g.Key.Category, g.Key.Name, g.Key.Baseline,
                Ns: g.Select(r => r.Ns).Order().ElementAt(g.Count() / 2),
                Bytes: g.Select(r => r.Bytes).Order().ElementAt(g.Count() / 2)))
            .ToList();
        foreach (var category in results.GroupBy(r => r.Category))
        {
            var baseline = category.FirstOrDefault(r => r.Baseline).Ns;
            foreach (var r in category)
            {
                var ratio = baseline > 0 ? $"{r.Ns / baseline:0.00}" : "–";
                Console.WriteLine($"| {r.Category} | {r.Name} | {r.Ns:0.0} | {ratio} | {r.Bytes} |");
            }
        }
        Console.WriteLine();
    }

    private static string Micros(long ns) => (ns / 1000.0).ToString(ns < 10_000 ? "0.00" : "0.0");

}
