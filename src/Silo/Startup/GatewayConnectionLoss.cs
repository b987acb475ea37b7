using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: when the connection to one of the silos it sends calls through closes (the silo crashed or
/// left), calls marked idempotent that are still waiting fail at once with <see cref="SiloUnavailableException"/>, so the
/// retry filter sends them again through a live silo. Orleans' client would otherwise wait for their replies until the
/// response timeout (30 s), because it does not fail the calls of a lost gateway connection. The filter cannot tell
/// which connection carried a call, so every waiting idempotent call is sent again, which is safe by definition. Other
/// calls keep waiting: running them twice could apply a write twice.
/// </summary>
internal sealed class GatewayConnectionLoss : IOutgoingGrainCallFilter
{
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Called by the cluster connection observer when a gateway connection closed.</summary>
    public void OnConnectionLost() => Interlocked.Exchange(ref _lost, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!Grains.Cluster.IdempotentRetryFilter.IsIdempotent(context.InterfaceMethod))
        {
            await context.Invoke();
            return;
        }
        var lost = Volatile.Read(ref _lost).Task;
        var call = context.Invoke();
        if (await Task.WhenAny(call, lost) != call)
        {
            // The abandoned call's outcome no longer matters; observe it so a late failure is not reported as unobserved.
            _ = call.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            throw new SiloUnavailableException("The connection to the silo carrying this call was lost.");
        }
        await call;
    }
}
