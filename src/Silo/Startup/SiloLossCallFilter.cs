using HomeServer.Grains.Cluster;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: when a silo is lost (its connection closed, or membership no longer lists it as active), calls
/// marked idempotent that are still waiting fail at once with <see cref="SiloUnavailableException"/>, so the retry filter
/// sends them again and they reach the grain's new activation. Orleans' client would otherwise wait for their replies
/// until the response timeout (30 s): it fails neither the calls of a lost gateway connection nor those a live gateway
/// forwarded to the lost silo. The filter cannot tell which silo a call went to, so every waiting idempotent call is sent
/// again, which is safe by definition. Other calls keep waiting: running them twice could apply a write twice.
/// </summary>
internal sealed class SiloLossCallFilter : IOutgoingGrainCallFilter
{
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A silo went away: the waiting idempotent calls are sent again.</summary>
    public void OnSiloLost() => Interlocked.Exchange(ref _lost, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!IdempotentRetryFilter.IsIdempotent(context.InterfaceMethod))
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
