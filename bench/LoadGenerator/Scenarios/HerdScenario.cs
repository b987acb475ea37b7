namespace HomeServer.LoadGenerator.Scenarios;
public sealed record HerdOptions(int Members, int StateEvents, int Clients, string Fixture, bool SeedOnly);
public static class HerdScenario { public static Task<Output.RunResult?> RunAsync(BenchContext b, HerdOptions o, CancellationToken ct) => throw new NotImplementedException(); }
