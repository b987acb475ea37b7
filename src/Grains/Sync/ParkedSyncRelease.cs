using Orleans;
using Orleans.Runtime;
using Orleans.Runtime.Diagnostics;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Answers a sync grain's parked long-polls as soon as Orleans starts to deactivate it (idle collection, a migration, a
/// rebalancing move, a silo drain), not when the deactivation runs: Orleans waits for running requests to finish before
/// calling <c>OnDeactivateAsync</c>, so a parked poll would otherwise hold the move up for its whole timeout. Orleans
/// reports the start through its grain lifecycle diagnostic events.
/// </summary>
public sealed class ParkedSyncRelease : IObserver<GrainLifecycleEvents.LifecycleEvent>, ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private IDisposable? _subscription;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ParkedSyncRelease), ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            _subscription = GrainLifecycleEvents.AllEvents.Subscribe(this);
            return Task.CompletedTask;
        });

    public void OnNext(GrainLifecycleEvents.LifecycleEvent value)
    {
        if (value is GrainLifecycleEvents.Deactivating { GrainContext.GrainInstance: SyncGrain grain }) grain.ReleaseParkedRequests();
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose() => _subscription?.Dispose();
}
