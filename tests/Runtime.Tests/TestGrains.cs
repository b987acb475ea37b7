using System.Collections.Concurrent;

namespace HomeServer.Runtime.Tests;

[GrainType("counter")]
public interface ICounterGrain : IGrain
{
    [Idempotent]
    Task<int> GetAsync();

    Task<int> IncrementAsync();

    [Idempotent]
    Task<string> WhereAsync();

    [Idempotent]
    Task<int> ActivationNumberAsync();
}

/// <summary>Counts in memory and saves to <see cref="SharedStore"/> on deactivation, so moves and restarts can be checked.</summary>
public sealed class CounterGrain(SharedStore store) : Grain, ICounterGrain
{
    private int _value;
    private int _activationNumber;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _value = store.Values.GetValueOrDefault(Key);
        _activationNumber = store.Activations.AddOrUpdate(Key, 1, (_, n) => n + 1);
        store.Live.AddOrUpdate(Key, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        store.Values[Key] = _value;
        store.Live.AddOrUpdate(Key, 0, (_, n) => n - 1);
        return Task.CompletedTask;
    }

    public Task<int> GetAsync() => Task.FromResult(_value);

    public Task<int> IncrementAsync()
    {
        _value++;
        store.Values[Key] = _value; // written through, like a durable append
        return Task.FromResult(_value);
    }

    public Task<string> WhereAsync() => Task.FromResult(store.SiloName);

    public Task<int> ActivationNumberAsync() => Task.FromResult(_activationNumber);
}

/// <summary>Stands in for durable storage shared by all silos of a test, plus bookkeeping of live activations.</summary>
public sealed class SharedStore
{
    public ConcurrentDictionary<string, int> Values { get; } = new();
    public ConcurrentDictionary<string, int> Activations { get; } = new();
    public ConcurrentDictionary<string, int> Live { get; } = new();
    public string SiloName { get; set; } = "";
}

public sealed class TestFailureException(string message) : Exception(message);

[GrainType("probe")]
public interface IProbeGrain : IGrain
{
    Task<int> EnterAsync(TimeSpan hold);

    [AlwaysInterleave]
    Task<int> PeekAsync();

    Task<string> EchoAsync(string text);

    ValueTask<int> AddAsync(int a, int b);

    ValueTask PingAsync();

    Task ThrowAsync(string message);

    Task ThrowCustomAsync(string message);

    Task ThrowSynchronously();

    Task<bool> WaitForCancellationAsync(TimeSpan max, CancellationToken cancellationToken);

    Task SleepAsync(TimeSpan duration);

    Task<int> MaxConcurrencySeenAsync();

    Task<Payload> RoundTripAsync(Payload payload);

    Task DeactivateSoonAsync();
}

public sealed record Payload(string Name, int[] Numbers, Dictionary<string, string> Tags);

public sealed class ProbeGrain(ProbeLog log) : Grain, IProbeGrain
{
    private int _inside;
    private int _maxInside;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        log.Record($"activate {Key}");
        if (log.FailNextActivation.TryRemove(Key, out _)) throw new TestFailureException($"activation of {Key} refused");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        log.Record($"deactivate {Key} {reason}");
        return Task.CompletedTask;
    }

    public async Task<int> EnterAsync(TimeSpan hold)
    {
        var inside = Interlocked.Increment(ref _inside);
        _maxInside = Math.Max(_maxInside, inside);
        await Task.Delay(hold);
        Interlocked.Decrement(ref _inside);
        return inside;
    }

    public Task<int> PeekAsync() => Task.FromResult(Volatile.Read(ref _inside));

    public Task<string> EchoAsync(string text) => Task.FromResult(text);

    public ValueTask<int> AddAsync(int a, int b) => ValueTask.FromResult(a + b);

    public ValueTask PingAsync() => ValueTask.CompletedTask;

    public async Task ThrowAsync(string message)
    {
        await Task.Yield();
        throw new InvalidOperationException(message);
    }

    public Task ThrowCustomAsync(string message) => throw new NoMessageConstructorException(message, 42);

    public Task ThrowSynchronously() => throw new ArgumentException("thrown before any await");

    public async Task<bool> WaitForCancellationAsync(TimeSpan max, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(max, cancellationToken);
            return false;
        }
        catch (OperationCanceledException)
        {
            log.Record($"cancelled {Key}");
            return true;
        }
    }

    public Task SleepAsync(TimeSpan duration) => Task.Delay(duration);

    public Task<int> MaxConcurrencySeenAsync() => Task.FromResult(_maxInside);

    public Task<Payload> RoundTripAsync(Payload payload) => Task.FromResult(payload with { Name = payload.Name + "!" });

    public Task DeactivateSoonAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public sealed class NoMessageConstructorException(string message, int code) : Exception(message)
{
    public int Code { get; } = code;
}

public sealed class ProbeLog
{
    private readonly ConcurrentQueue<string> _entries = new();

    public ConcurrentDictionary<string, bool> FailNextActivation { get; } = new();

    public void Record(string entry) => _entries.Enqueue(entry);

    public IReadOnlyList<string> Entries => [.. _entries];

    public int Count(string entry) => _entries.Count(e => e == entry);
}

[GrainType("overloaded")]
public interface IOverloadedGrain : IGrain
{
    Task DoAsync(int a);

    Task DoAsync(string a);
}

public interface INotRegisteredGrain : IGrain
{
    Task<int> GetAsync();
}

/// <summary>Same wire name as <see cref="IProbeGrain"/> but with a method the silo does not know (a newer build's interface).</summary>
[GrainType("probe")]
public interface IProbeGrainFromNewerBuild : IGrain
{
    Task<string> MethodOnlyInNewerBuildAsync();

    Task<string> EchoAsync(string text);
}
