using HomeServer.Runtime.Invocation;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Activation;

internal enum ActivationState { Activating, Valid, Deactivating, Invalid }

/// <summary>
/// One live instance of a grain and its mailbox. Turns run one at a time: a call that finds the activation
/// idle runs at once on the caller's thread (no queueing, no thread hop), otherwise it waits in the queue and
/// runs on the thread pool when the previous turn ends. Interleaving methods bypass the queue.
/// </summary>
internal sealed class ActivationData
{
    private readonly object _lock = new();
    private readonly Queue<Turn> _queue = new();
    private readonly Catalog _catalog;
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<GrainTimer> _timers = [];
    private TaskCompletionSource? _interleavingDrained;
    private ActivationState _state = ActivationState.Activating;
    private bool _busy = true; // the activation turn itself
    private bool _deactivationQueued;
    private int _interleaving;
    private long _lastActivity = Environment.TickCount64;

    public ActivationData(GrainId grainId, Catalog catalog)
    {
        GrainId = grainId;
        _catalog = catalog;
    }

    public GrainId GrainId { get; }

    public Grain Grain { get; private set; } = null!;

    public IGrainFactory GrainFactory => _catalog.GrainFactory;

    public IGrainLocator GrainLocator => _catalog.Locator;

    /// <summary>Completes when the activation has been deactivated (or failed to activate) and left the catalog.</summary>
    public Task Deactivated => _deactivated.Task;

    public ActivationState State
    {
        get { lock (_lock) return _state; }
    }

    /// <summary>Creates the grain and runs OnActivateAsync as the first turn; calls queue behind it.</summary>
    public async Task ActivateAsync(Type implementation, IServiceProvider services)
    {
        try
        {
            if (_catalog.BeforeActivate is { } beforeActivate) await beforeActivate(GrainId).ConfigureAwait(false);
            var grain = (Grain)Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance(services, implementation);
            grain.Attach(this);
            Grain = grain;
            using var timeout = new CancellationTokenSource(_catalog.Options.ActivationTimeout);
            await grain.OnActivateAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _catalog.Logger.LogWarning(ex, "Activation of {GrainId} failed", GrainId);
            Invalidate(activationError: ex);
            return;
        }
        lock (_lock) _state = ActivationState.Valid;
        OnTurnCompleted();
    }

    /// <summary>
    /// Accepts a call unless the activation is deactivating or gone (then returns false and the catalog retries
    /// on a fresh activation once <see cref="Deactivated"/> completes).
    /// </summary>
    public bool TryEnqueue(GrainMethod method, object?[] arguments, CancellationToken cancellationToken, out ValueTask<object?> result)
    {
        var interleave = false;
        CallTurn? queued = null;
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                result = default;
                return false;
            }
            _lastActivity = Environment.TickCount64;
            if (method.IsInterleaving && _state == ActivationState.Valid)
            {
                _interleaving++;
                interleave = true;
            }
            else if (!_busy)
            {
                _busy = true;
            }
            else
            {
                queued = new CallTurn(GrainId, method, arguments, cancellationToken);
                _queue.Enqueue(queued);
            }
        }

        if (queued is not null)
        {
            result = new ValueTask<object?>(queued.Completion);
        }
        else if (interleave)
        {
            result = RunInterleavingAsync(method, arguments);
        }
        else
        {
            result = RunOnCallerThread(method, arguments, cancellationToken);
        }
        return true;
    }

    private ValueTask<object?> RunOnCallerThread(GrainMethod method, object?[] arguments, CancellationToken cancellationToken)
    {
        ValueTask<object?> pending;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            pending = method.Invoke(Grain, arguments);
        }
        catch (Exception ex)
        {
            pending = ValueTask.FromException<object?>(ex);
        }
        if (pending.IsCompleted)
        {
            OnTurnCompleted();
            return pending;
        }
        return AwaitTurnAsync(pending);
    }

    private async ValueTask<object?> AwaitTurnAsync(ValueTask<object?> pending)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            OnTurnCompleted();
        }
    }

    private async ValueTask<object?> RunInterleavingAsync(GrainMethod method, object?[] arguments)
    {
        try
        {
            return await method.Invoke(Grain, arguments).ConfigureAwait(false);
        }
        finally
        {
            TaskCompletionSource? drained = null;
            lock (_lock)
            {
                _interleaving--;
                _lastActivity = Environment.TickCount64;
                if (_interleaving == 0) drained = _interleavingDrained;
            }
            drained?.TrySetResult();
        }
    }

    /// <summary>Starts the next queued turn, if any, on the thread pool; otherwise marks the activation idle.</summary>
    private void OnTurnCompleted()
    {
        while (true)
        {
            Turn? next;
            lock (_lock)
            {
                if (_state == ActivationState.Invalid) return;
                if (!_queue.TryDequeue(out next))
                {
                    _busy = false;
                    return;
                }
                if (next is CallTurn { Method.IsInterleaving: true } && _state == ActivationState.Valid)
                {
                    _interleaving++;
                }
                else
                {
                    ScheduleTurn(next);
                    return;
                }
            }
            _ = RunQueuedInterleavingAsync((CallTurn)next);
        }
    }

    private async Task RunQueuedInterleavingAsync(CallTurn turn)
    {
        try
        {
            await turn.RunAsync(this).ConfigureAwait(false);
        }
        finally
        {
            TaskCompletionSource? drained = null;
            lock (_lock)
            {
                _interleaving--;
                if (_interleaving == 0) drained = _interleavingDrained;
            }
            drained?.TrySetResult();
        }
    }

    private void ScheduleTurn(Turn turn) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Activation.RunQueuedTurnAsync(state.Turn), (Activation: this, Turn: turn), preferLocal: false);

    private async Task RunQueuedTurnAsync(Turn turn)
    {
        try
        {
            await turn.RunAsync(this).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _catalog.Logger.LogError(ex, "Turn of {GrainId} failed", GrainId);
        }
        OnTurnCompleted();
    }

    /// <summary>True when nothing runs or waits and the last call is older than <paramref name="idleFor"/>.</summary>
    public bool IsIdle(TimeSpan idleFor)
    {
        lock (_lock)
        {
            return _state == ActivationState.Valid && !_busy && _interleaving == 0 && _queue.Count == 0
                && Environment.TickCount64 - _lastActivity >= (long)idleFor.TotalMilliseconds;
        }
    }

    /// <summary>Queues deactivation as a turn: calls already queued run first, later ones go to a new activation.</summary>
    public void RequestDeactivation(DeactivationReason reason)
    {
        lock (_lock)
        {
            if (_state != ActivationState.Valid || _deactivationQueued) return;
            _deactivationQueued = true;
            if (_busy)
            {
                _queue.Enqueue(new DeactivationTurn(reason));
                return;
            }
            _busy = true;
        }
        ScheduleTurn(new DeactivationTurn(reason));
    }

    /// <summary>Runs as a turn: OnDeactivateAsync, wait for interleaving calls, leave the catalog, redirect what queued.</summary>
    public async Task DeactivateAsync(DeactivationReason reason)
    {
        GrainTimer[] timers;
        lock (_lock)
        {
            _state = ActivationState.Deactivating;
            timers = [.. _timers];
            _timers.Clear();
        }
        foreach (var timer in timers) timer.Dispose();

        using var timeout = new CancellationTokenSource(_catalog.Options.DeactivationTimeout);
        try
        {
            await Grain.OnDeactivateAsync(reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _catalog.Logger.LogWarning(ex, "OnDeactivateAsync of {GrainId} failed", GrainId);
        }

        Task drained;
        lock (_lock)
        {
            _interleavingDrained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _interleaving == 0 ? Task.CompletedTask : _interleavingDrained.Task;
        }
        try
        {
            await drained.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _catalog.Logger.LogWarning("Deactivating {GrainId} while interleaving calls still run", GrainId);
        }

        Invalidate(activationError: null);
    }

    /// <summary>
    /// Leaves the catalog for good. Queued turns are failed with the activation error, or handed to a new
    /// activation when there is none.
    /// </summary>
    private void Invalidate(Exception? activationError)
    {
        Turn[] abandoned;
        lock (_lock)
        {
            _state = ActivationState.Invalid;
            abandoned = [.. _queue];
            _queue.Clear();
        }
        _catalog.Remove(this);
        _deactivated.TrySetResult();
        foreach (var turn in abandoned) turn.Abandon(_catalog, activationError);
    }

    public IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new GrainTimer(this, callback, dueTime, period);
        lock (_lock) _timers.Add(timer);
        return timer;
    }

    internal void RemoveTimer(GrainTimer timer)
    {
        lock (_lock) _timers.Remove(timer);
    }

    /// <summary>Queues a timer tick as a turn; ticks do not count as activity for idle collection.</summary>
    internal bool TryEnqueueTick(TimerTurn tick)
    {
        lock (_lock)
        {
            if (_state != ActivationState.Valid) return false;
            if (_busy)
            {
                _queue.Enqueue(tick);
                return true;
            }
            _busy = true;
        }
        ScheduleTurn(tick);
        return true;
    }
}
