namespace HomeServer.LoadGenerator.Scenarios;
public sealed record ThroughputOptions(int Rooms, int Members, int SendersPerRoom, int Warmup, int Duration);
public static class ThroughputScenario { public static Task<Output.RunResult?> RunAsync(BenchContext b, ThroughputOptions o, CancellationToken ct) => throw new NotImplementedException(); }
