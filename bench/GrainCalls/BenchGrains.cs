using Orleans.Placement;

namespace HomeServer.GrainCalls;

public interface IBenchGrain : IGrainWithStringKey
{
    ValueTask<int> EchoValueAsync(int value);

    Task<int> EchoTaskAsync(int value);
}

/// <summary>
/// Does no work, so a call measures only Orleans: proxy, messaging, scheduling and (remotely) serialisation and
/// transport. Activated on the silo that places it, so whoever activates a grain decides where it lives.
/// </summary>
[PreferLocalPlacement]
public sealed class BenchGrain : Grain, IBenchGrain
{
    public ValueTask<int> EchoValueAsync(int value) => ValueTask.FromResult(value);

    public Task<int> EchoTaskAsync(int value) => Task.FromResult(value);
}
