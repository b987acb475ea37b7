namespace HomeServer.GrainCalls;

/// <summary>Markdown tables of the results.</summary>
public static class ResultTables
{
    public static void Print(IEnumerable<Row> rows)
    {
        Console.WriteLine("| Scenario | Load | Grains on silo 1/2 | Calls/s | p50 (µs) | p99 (µs) | p99.9 (µs) | max (µs) | Errors | CPU µs/call | Alloc B/call | Work items/call | Ctx switches/call | GCs (pause ms) | Hiccup p99 (µs) | Pacer lag p99 (µs) |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var row in rows)
        {
            var r = row.Result;
            var lag = r.PacerLag is { } pacer ? Micros(pacer.P99) : "–";
            Console.WriteLine($"| {row.Scenario} | {row.Load} | {row.Placement} | {r.CallsPerSecond:N0} | {Micros(r.Latency.P50)} | " +
                $"{Micros(r.Latency.P99)} | {Micros(r.Latency.P999)} | {Micros(r.Latency.Max)} | {r.Errors} | {r.CpuMicrosPerCall:0.00} | " +
                $"{r.BytesPerCall:0} | {r.WorkItemsPerCall:0.00} | {r.ContextSwitchesPerCall:0.00} | {r.Collections} ({r.GcPauseMs:0}) | " +
                $"{Micros(r.Hiccups.P99)} | {lag} |");
        }
        Console.WriteLine();
    }

    /// <summary>Rows of several runs of the same scenarios, reduced to one row per scenario with each figure's median.</summary>
    public static List<Row> Median(List<List<Row>> runs) =>
        Enumerable.Range(0, runs[0].Count).Select(i =>
        {
            var same = runs.Select(r => r[i]).ToList();
            // The open-loop rate follows each run's peak; the load shown is that of the run with the median calls/s.
            var middle = same.OrderBy(r => r.Result.CallsPerSecond).ElementAt(same.Count / 2);
            var latency = new LatencySummary(
                Median(same, r => r.Result.Latency.P50),
                Median(same, r => r.Result.Latency.P99),
                Median(same, r => r.Result.Latency.P999),
                Median(same, r => r.Result.Latency.Max));
            var lag = same[0].Result.PacerLag is null ? null
                : new LatencySummary(0, Median(same, r => r.Result.PacerLag!.P99), 0, 0);
            return new Row(middle.Scenario, middle.Load, middle.Placement, new Measurement(
                Median(same, r => r.Result.CallsPerSecond), latency, Median(same, r => r.Result.Errors),
                Median(same, r => r.Result.CpuMicrosPerCall), Median(same, r => r.Result.BytesPerCall),
                Median(same, r => r.Result.Collections), Median(same, r => r.Result.GcPauseMs),
                Median(same, r => r.Result.WorkItemsPerCall), Median(same, r => r.Result.ContextSwitchesPerCall),
                new LatencySummary(0, Median(same, r => r.Result.Hiccups.P99), 0, 0), lag));
        }).ToList();

    private static T Median<T>(List<Row> rows, Func<Row, T> value) => rows.Select(value).Order().ElementAt(rows.Count / 2);

    private static string Micros(long ns) => (ns / 1000.0).ToString(ns < 10_000 ? "0.00" : "0.0");
}
