namespace HomeServer.Grains.Sync;

/// <summary>
/// A read shared by every caller that asks before it starts: each caller gets a result read after its call began, as if
/// it had read alone, while a crowd of callers costs one read at a time (those who arrive during a read share the next).
/// For reads whose callers need "no older than my call", such as a sync grain's baseline positions, which must be read
/// after the grain subscribed to the notices.
/// </summary>
public sealed class FreshSharedRead<T>(Func<Task<T>> read)
{
    private readonly object _lock = new();
    private TaskCompletionSource<T>? _next;

    public Task<T> ReadAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<T> next;
        var start = false;
        lock (_lock)
        {
            if (_next is null)
            {
                _next = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                start = true;
            }
            next = _next;
        }
        // Off the caller's turn, so that callers arriving meanwhile join this read rather than the next.
        if (start) _ = Task.Run(ReadForWaitingAsync, CancellationToken.None);
        return next.Task.WaitAsync(cancellationToken);
    }

    private async Task ReadForWaitingAsync()
    {
        TaskCompletionSource<T> waiting;
        lock (_lock)
        {
            waiting = _next!;
            // From here on the read is under way: later callers wait for the next one.
            _next = null;
        }
        try
        {
            waiting.SetResult(await read());
        }
        catch (Exception e)
        {
            waiting.SetException(e);
        }
    }
}
