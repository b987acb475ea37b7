using Microsoft.Extensions.Options;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Bounds the initial and full-state syncs built at once on this silo (<see cref="InitialSyncOptions"/>): the others
/// wait their turn in order of arrival, none is refused. A waiting request whose caller gives up leaves the queue.
/// </summary>
public sealed class InitialSyncGate(IOptions<InitialSyncOptions> options)
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentInitialSyncs, options.Value.MaxConcurrentInitialSyncs);
    private int _waiting;

    public int Capacity { get; } = options.Value.MaxConcurrentInitialSyncs;

    /// <summary>Requests waiting for a place now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Requests holding a place now.</summary>
    public int Building => Capacity - _slots.CurrentCount;

    /// <summary>Waits for a place; disposing the result gives it back.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        return new Place(_slots);
    }

    private sealed class Place(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}
