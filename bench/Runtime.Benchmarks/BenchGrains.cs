namespace HomeServer.Runtime.Benchmarks;

[GrainType("bench")]
public interface IBenchGrain : IGrain
{
    ValueTask<int> EchoValueAsync(int value);

    Task<int> EchoTaskAsync(int value);
}

/// <summary>Does no work, so a call measures only the runtime: proxy, routing, turn and (remotely) transport.</summary>
public sealed class BenchGrain : Grain, IBenchGrain
{
    public ValueTask<int> EchoValueAsync(int value) => ValueTask.FromResult(value);

    public Task<int> EchoTaskAsync(int value) => Task.FromResult(value);
}
