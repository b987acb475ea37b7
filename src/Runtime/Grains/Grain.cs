using HomeServer.Runtime.Activation;

namespace HomeServer.Runtime;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReason
{
    /// <summary>Unused for longer than the collection age.</summary>
    Idle,
    /// <summary>The grain asked for it with <see cref="Grain.DeactivateOnIdle"/>.</summary>
    Requested,
    /// <summary>The silo is draining; callers will reach a new activation on another silo.</summary>
    ShuttingDown,
}

/// <summary>
/// Base class of grain implementations. The runtime creates it on the first call, calls
/// <see cref="OnActivateAsync"/>, then delivers calls one turn at a time.
/// </summary>
public abstract class Grain
{
    private ActivationData? _activation;

    internal void Attach(ActivationData activation) => _activation = activation;

    private ActivationData Activation =>
        _activation ?? throw new InvalidOperationException("The grain is not attached to an activation yet.");

    public GrainId GrainId => Activation.GrainId;

    /// <summary>The grain's string key.</summary>
    public string Key => Activation.GrainId.Key;

    public IGrainFactory GrainFactory => Activation.GrainFactory;

    /// <summary>Where grains live in the cluster and which are active on this silo.</summary>
    public IGrainLocator GrainLocator => Activation.GrainLocator;

    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation once the current turn ends.</summary>
    protected void DeactivateOnIdle() => Activation.RequestDeactivation(DeactivationReason.Requested);

    /// <summary>
    /// Runs <paramref name="callback"/> as a normal turn after <paramref name="dueTime"/> and then every
    /// <paramref name="period"/> (or once if it is infinite). A tick never overlaps itself or another turn, and
    /// does not keep the grain from being collected when idle. Disposed with the activation.
    /// </summary>
    protected IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        Activation.RegisterTimer(callback, dueTime, period);
}
