namespace HomeServer.Runtime.Activation;

/// <summary>
/// A timer owned by one activation. Each tick is queued as a turn; the next tick is armed only after the
/// previous one ran, so ticks never overlap.
/// </summary>
internal sealed class GrainTimer : IDisposable
{
    private readonly ActivationData _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly TimeSpan _period;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Timer _timer;

    public GrainTimer(ActivationData activation, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        _activation = activation;
        _callback = callback;
        _period = period;
        _timer = new Timer(static state => ((GrainTimer)state!).OnElapsed(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
    }

    private void OnElapsed()
    {
        if (_disposed.IsCancellationRequested) return;
        if (!_activation.TryEnqueueTick(new TimerTurn(this))) Dispose();
    }

    public async Task RunTickAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        try
        {
            await _callback(_disposed.Token).ConfigureAwait(false);
        }
        finally
        {
            if (_period == Timeout.InfiniteTimeSpan) Dispose();
            else if (!_disposed.IsCancellationRequested) Rearm();
        }
    }

    private void Rearm()
    {
        try
        {
            _timer.Change(_period, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently by deactivation.
        }
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        _timer.Dispose();
        _activation.RemoveTimer(this);
    }
}
