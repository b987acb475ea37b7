using System.Collections.Concurrent;
using HomeServer.Runtime.Invocation;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Activation;

/// <summary>The activations hosted by one silo: creates them on first call, collects idle ones, deactivates all on drain.</summary>
internal sealed class Catalog : IAsyncDisposable
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly object _createLock = new();
    private readonly GrainTypeRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly Timer _collector;
    private volatile bool _accepting = true;

    public Catalog(GrainTypeRegistry registry, IServiceProvider services, CatalogOptions options, ILogger logger)
    {
        _registry = registry;
        _services = services;
        Options = options;
        Logger = logger;
        _collector = new Timer(_ => CollectIdle(), null, options.CollectionQuantum, options.CollectionQuantum);
    }

    public CatalogOptions Options { get; }

    public ILogger Logger { get; }

    public IGrainFactory GrainFactory { get; set; } = null!;

    public IGrainLocator Locator { get; set; } = null!;

    /// <summary>Runs before a new activation is created (the silo uses it to make the previous owner let go).</summary>
    public Func<GrainId, Task>? BeforeActivate { get; init; }

    public int Count => _activations.Count;

    public IEnumerable<GrainId> GrainIds => _activations.Keys;

    public ValueTask<object?> InvokeAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken)
    {
        if (_activations.TryGetValue(target, out var activation)
            && activation.TryEnqueue(method, arguments, cancellationToken, out var result))
        {
            return result;
        }
        return InvokeOnNewActivationAsync(target, method, arguments, cancellationToken);
    }

    /// <summary>Delivers the call to the existing activation only; fails with <see cref="GrainNotActiveException"/> when there is none.</summary>
    public ValueTask<object?> InvokeIfActiveAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken) =>
        _activations.TryGetValue(target, out var activation) && activation.TryEnqueue(method, arguments, cancellationToken, out var result)
            ? result
            : ValueTask.FromException<object?>(new GrainNotActiveException($"{target} is not active on this silo."));

    private async ValueTask<object?> InvokeOnNewActivationAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (activation, implementation) = GetOrCreate(target);
            var accepted = activation.TryEnqueue(method, arguments, cancellationToken, out var result);
            // Started only after the first call is queued, so that call sees an activation failure.
            if (implementation is not null) _ = activation.ActivateAsync(implementation, _services);
            if (accepted) return await result.ConfigureAwait(false);
            await activation.Deactivated.WaitAsync(cancellationToken).ConfigureAwait(false);
            _activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(target, activation));
        }
    }

    /// <summary>The activation, and the class to activate when it was just created (null when it already existed).</summary>
    private (ActivationData Activation, Type? Implementation) GetOrCreate(GrainId target)
    {
        if (_activations.TryGetValue(target, out var existing)) return (existing, null);
        if (!_accepting)
            throw new TransientRejectionException($"This silo is shutting down and does not activate {target}.");
        var implementation = _registry.GetImplementation(target.Type);
        ActivationData created;
        lock (_createLock)
        {
            if (_activations.TryGetValue(target, out existing)) return (existing, null);
            created = new ActivationData(target, this);
            _activations[target] = created;
            Hosting.RuntimeMetrics.Activations.Add(1);
        }
        return (created, implementation);
    }

    public bool IsActive(GrainId grainId) => _activations.ContainsKey(grainId);

    internal void Remove(ActivationData activation)
    {
        if (_activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation)))
            Hosting.RuntimeMetrics.Deactivations.Add(1);
    }

    private void CollectIdle()
    {
        foreach (var activation in _activations.Values)
        {
            if (activation.IsIdle(Options.CollectionAge)) activation.RequestDeactivation(DeactivationReason.Idle);
        }
    }

    /// <summary>Deactivates the given activations (e.g. those that this silo no longer owns) and waits for them.</summary>
    public Task DeactivateAsync(IEnumerable<GrainId> grainIds, DeactivationReason reason)
    {
        var waits = new List<Task>();
        foreach (var id in grainIds)
        {
            if (!_activations.TryGetValue(id, out var activation)) continue;
            activation.RequestDeactivation(reason);
            waits.Add(activation.Deactivated);
        }
        return Task.WhenAll(waits);
    }

    /// <summary>Stops creating activations and deactivates every one, waiting at most <paramref name="timeout"/>.</summary>
    public async Task DeactivateAllAsync(TimeSpan timeout)
    {
        _accepting = false;
        var all = DeactivateAsync(_activations.Keys.ToArray(), DeactivationReason.ShuttingDown);
        try
        {
            await all.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Logger.LogWarning("{Count} activations were still deactivating after {Timeout}", _activations.Count, timeout);
        }
    }

    public ValueTask DisposeAsync() => _collector.DisposeAsync();
}
