using HomeServer.Grains;
using HomeServer.Grains.Cluster;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: when a silo is lost (its connection closed, or the set of active silos changed), calls marked
/// idempotent that are still waiting are given up with <see cref="SiloUnavailableException"/>, so their caller sends
/// them again and they reach the grain's new activation (a /sync long-poll asks again itself; other requests answer 503,
/// which clients and the proxy retry). Orleans' client would otherwise wait for their replies until the response timeout
/// (30 s): it fails neither the calls of a lost gateway connection nor those a live gateway forwarded to the lost silo.
/// The filter cannot tell which silo a call went to, so it gives up every waiting long-poll and every other idempotent
/// call that has waited <see cref="StuckAfter"/> (a healthy short call answers sooner). Other calls keep waiting: running
/// them twice could apply a write twice.
/// A call sent while the cluster is still settling can be lost the same way after the change was seen (a gateway silo
/// that has not heard of a death yet forwards it to the dead silo), so the change is signalled again a few seconds later
/// (<see cref="ActiveSiloWatch"/>), and for <see cref="Unsettled"/> after a change a call is also given up when its answer
/// is later than <see cref="Grace"/> beyond the time its grain may hold it (<see cref="ILongPollRequest"/>).
/// This filter must run first: one that gives up a call still in flight cannot send it again through the rest of the
/// chain (Orleans' invoker would skip the filters after it), so the caller does.
/// </summary>
internal sealed class SiloLossCallFilter(TimeProvider time) : IOutgoingGrainCallFilter
{
    internal static readonly TimeSpan Unsettled = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);
    internal static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(2);

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _changedAt = long.MinValue;

    /// <summary>A silo went away, or the cluster is settling after a change: waiting idempotent calls are given up.</summary>
    public void OnClusterChanged()
    {
        Volatile.Write(ref _changedAt, time.GetTimestamp());
        Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!IdempotentRetryFilter.IsIdempotent(context.InterfaceMethod))
        {
            await context.Invoke();
            return;
        }
        var started = time.GetTimestamp();
        var hold = LongestHold(context.Request, out var isLongPoll);
        var changed = Volatile.Read(ref _changed).Task;
        using var stopWatching = new CancellationTokenSource();
        var call = context.Invoke();
        try
        {
            while (true)
            {
                var overdue = IsUnsettled()
                    ? Task.Delay(Max(TimeSpan.Zero, hold + Grace - time.GetElapsedTime(started)), time, stopWatching.Token)
                    : Task.Delay(Timeout.InfiniteTimeSpan, stopWatching.Token);
                var first = await Task.WhenAny(call, changed, overdue);
                if (first == call) break;
                if (first == overdue) GiveUp(call, "No answer in time while the cluster was changing; the call may have gone to a lost silo.");
                if (isLongPoll || time.GetElapsedTime(started) >= StuckAfter) GiveUp(call, "The silo carrying this call may be lost.");
                changed = Volatile.Read(ref _changed).Task;
            }
        }
        finally
        {
            stopWatching.Cancel();
        }
        await call;
    }

    private bool IsUnsettled()
    {
        var changedAt = Volatile.Read(ref _changedAt);
        return changedAt != long.MinValue && time.GetElapsedTime(changedAt) < Unsettled;
    }

    private static void GiveUp(Task call, string reason)
    {
        // The abandoned call's outcome no longer matters; observe it so a late failure is not reported as unobserved.
        _ = call.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        throw new SiloUnavailableException(reason);
    }

    private static TimeSpan LongestHold(Orleans.Serialization.Invocation.IInvokable request, out bool isLongPoll)
    {
        for (var i = 0; i < request.GetArgumentCount(); i++)
        {
            if (request.GetArgument(i) is ILongPollRequest poll)
            {
                isLongPoll = true;
                return poll.Timeout;
            }
        }
        isLongPoll = false;
        return TimeSpan.Zero;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
