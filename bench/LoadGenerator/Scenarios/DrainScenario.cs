namespace HomeServer.LoadGenerator.Scenarios;
public sealed record DrainOptions(int Clients, double Rate, string DrainCommand, int Silos, int Settle);
public static class DrainScenario { public static Task<Output.RunResult?> RunAsync(BenchContext b, DrainOptions o, CancellationToken ct) => throw new NotImplementedException(); }
