using HomeServer.Grains;
using HomeServer.Grains.Cluster;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: when a silo is lost (its connection closed, or the set of active silos changed), calls marked
/// idempotent that are still waiting are given up and sent anew, so they reach the grain's new activation. Orleans'
/// client would otherwise wait for their replies until the response timeout (30 s): it fails neither the calls of a lost gateway connection nor those a live gateway forwarded to the lost silo.
/// The filter cannot tell which silo a call went to, so it gives up every waiting long-poll and every other idempotent
/// call that has waited <see cref="StuckAfter"/> (a healthy short call answers sooner). Other calls keep waiting: running
/// them twice could apply a write twice.
/// A call sent while the cluster is still settling can be lost the same way after the change was seen (a gateway silo
/// that has not heard of a death yet forwards it to the dead silo), so the change is signalled again a few seconds later
/// (<see cref="ActiveSiloWatch"/>), and for <see cref="Unsettled"/> after a change a call is also given up when its answer
/// is later than <see cref="Grace"/> beyond the time its grain may hold it (<see cref="ILongPollRequest"/>).
/// A call given up is sent anew as a new call (<see cref="SendAnewAsync"/>), a few times at most, after which its caller
/// gets <see cref="SiloUnavailableException"/> (a 503 the client retries).
/// </summary>
internal sealed class SiloLossCallFilter(TimeProvider time) : IOutgoingGrainCallFilter
{
    internal static readonly TimeSpan Unsettled = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);
    internal static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(2);
    /// <summary>How many times in a row one call is sent anew before its caller gets <see cref="SiloUnavailableException"/>.</summary>
    private const int MaxResends = 3;

    private static readonly AsyncLocal<int> ResendDepth = new();

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
        string? givenUp = null;
        try
        {
            while (givenUp is null)
            {
                var overdue = IsUnsettled()
                    ? Task.Delay(Max(TimeSpan.Zero, hold + Grace - time.GetElapsedTime(started)), time, stopWatching.Token)
                    : Task.Delay(Timeout.InfiniteTimeSpan, stopWatching.Token);
                var first = await Task.WhenAny(call, changed, overdue);
                if (first == call) break;
                if (first == overdue) givenUp = "No answer in time while the cluster was changing; the call may have gone to a lost silo.";
                else if (isLongPoll || time.GetElapsedTime(started) >= StuckAfter) givenUp = "The silo carrying this call may be lost.";
                else changed = Volatile.Read(ref _changed).Task;
            }
        }
        finally
        {
            stopWatching.Cancel();
        }
        if (givenUp is null)
        {
            await call;
            return;
        }
        // The abandoned call's outcome no longer matters; observe it so a late failure is not reported as unobserved.
        _ = call.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        await SendAnewAsync(context, givenUp);
    }

    /// <summary>
    /// The same method with the same arguments as a new call on the same grain reference, so it passes every filter again
    /// (this one watches it too). Calling on through <paramref name="context"/> cannot do that: Orleans' invoker counts
    /// its stages, and the abandoned call still holds the later ones.
    /// </summary>
    private static async Task SendAnewAsync(IOutgoingGrainCallContext context, string reason)
    {
        if (ResendDepth.Value >= MaxResends || context.Grain is null) throw new SiloUnavailableException(reason);
        var arguments = new object?[context.Request.GetArgumentCount()];
        for (var i = 0; i < arguments.Length; i++) arguments[i] = context.Request.GetArgument(i);
        ResendDepth.Value++;
        Task resent;
        try
        {
            resent = context.InterfaceMethod.Invoke(context.Grain, arguments) as Task ?? throw new SiloUnavailableException(reason);
        }
        finally
        {
            ResendDepth.Value--;
        }
        await resent;
        context.Result = context.InterfaceMethod.ReturnType.IsGenericType ? resent.GetType().GetProperty(nameof(Task<object>.Result))!.GetValue(resent) : null;
    }

    private bool IsUnsettled()
    {
        var changedAt = Volatile.Read(ref _changedAt);
        return changedAt != long.MinValue && time.GetElapsedTime(changedAt) < Unsettled;
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
