using System.Text.Json.Nodes;

namespace HomeServer.LoadGenerator.Output;

/// <summary>What a curve varies and measures for one scenario: the parameter on the x axis and where each measure is read.</summary>
public sealed record CurveKind(string Scenario, string PointParameter, string PointAxis, string Latency, string Events, string LatencyField, string EventCountField)
{
    public static readonly CurveKind Fanout = new("fanout", "clients", "long-polling clients in the room", "delivery latency", "delivered events",
        "delivery_latency_ms", "deliveries");

    public static readonly CurveKind Throughput = new("throughput", "rooms", "rooms", "send latency", "persisted events",
        "send_latency_ms", "persisted_events");

    /// <summary>The kind of a result's scenario name, which may carry a label ("fanout-shared").</summary>
    public static CurveKind Of(string scenario) =>
        new[] { Fanout, Throughput }.FirstOrDefault(kind => scenario == kind.Scenario || scenario.StartsWith(kind.Scenario + "-", StringComparison.Ordinal))
        ?? throw new ArgumentException($"A curve is drawn for fanout or throughput results, not {scenario}.");
}

/// <summary>One measured run of a curve's scenario, read from its result JSON.</summary>
public sealed record CurveRun(
    double Point, double? P50Ms, double? P99Ms, double? EventsPerSecond, double? ServerCpuMsPerEvent, double? PostgresCpuMsPerEvent,
    double? PeakRssMib, string LoadAverage);

/// <summary>One point of the curve: the median of each measure over the point's runs, each taken separately.</summary>
public sealed record CurvePoint(
    double Point, int Runs, double? P50Ms, double? P99Ms, double? EventsPerSecond, double? ServerCpuMsPerEvent, double? PostgresCpuMsPerEvent,
    double? PeakRssMib, IReadOnlyList<string> LoadAverages);

/// <summary>Turns the result files of runs at several points (clients, rooms) into one point per value: the medians of its runs.</summary>
public static class ScaleCurve
{
    /// <summary>Reads one result document as written by <see cref="ResultWriter"/>.</summary>
    public static CurveRun ReadRun(CurveKind kind, JsonNode result)
    {
        var parameters = result["parameters"] ?? throw new ArgumentException("The result has no parameters.");
        var measured = result["measured"] ?? throw new ArgumentException("The result has no measured values.");
        var point = Number(parameters[kind.PointParameter]) ?? throw new ArgumentException($"The result has no parameter {kind.PointParameter}.");
        var latency = measured[kind.LatencyField];
        var events = Number(measured[kind.EventCountField]);
        var eventsPerSecond = kind == CurveKind.Fanout
            ? PerUnit(events, Number(measured["window_seconds"]))
            : Number(measured["persisted_events_per_s"]);
        var serverCpuMs = Number(measured["server_cpu_seconds"]) * 1000;
        var postgresCpuMs = Number(measured["postgres_cpu_seconds"]) * 1000;
        return new CurveRun(point, Number(latency?["P50"]), Number(latency?["P99"]), eventsPerSecond,
            PerUnit(serverCpuMs, events), PerUnit(postgresCpuMs, events), Number(measured["server_rss_mib_peak"]),
            measured["load_average_at_start"]?.GetValue<string>() ?? "");
    }

    public static IReadOnlyList<CurvePoint> Aggregate(IEnumerable<CurveRun> runs) => runs
        .GroupBy(run => run.Point)
        .OrderBy(group => group.Key)
        .Select(group => new CurvePoint(group.Key, group.Count(),
            Median(group.Select(r => r.P50Ms)), Median(group.Select(r => r.P99Ms)), Median(group.Select(r => r.EventsPerSecond)),
            Median(group.Select(r => r.ServerCpuMsPerEvent)), Median(group.Select(r => r.PostgresCpuMsPerEvent)),
            Median(group.Select(r => r.PeakRssMib)), [.. group.Select(r => r.LoadAverage)]))
        .ToArray();

    /// <summary>The median of the values present (the mean of the middle two for an even count); null when none is.</summary>
    public static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Order().ToArray();
        if (sorted.Length == 0) return null;
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static double? PerUnit(double? amount, double? units) => amount is null || units is not > 0 ? null : amount / units;

    private static double? Number(JsonNode? node) => node is JsonValue value && value.TryGetValue<double>(out var number) ? number : null;
}
