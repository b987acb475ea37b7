using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace HomeServer.Grains.Cluster;

/// <summary>
/// Sends a call to a method marked <see cref="IdempotentAttribute"/> again when it failed because its silo went away or
/// refused it (a drain, a crash, an overloaded silo): Orleans re-places the grain, so a drain is invisible to the caller.
/// Other calls fail as they are, unless they were never sent: running them twice could apply a write twice.
/// </summary>
public sealed partial class IdempotentRetryFilter(ILogger<IdempotentRetryFilter> logger) : IOutgoingGrainCallFilter
{
    /// <summary>
    /// How long a call keeps being sent again: a little longer than failure detection takes (a killed silo's grains can
    /// only be placed elsewhere once it is declared dead).
    /// </summary>
    public static readonly TimeSpan RetryWindow = TimeSpan.FromSeconds(12);

    private static readonly ConcurrentDictionary<MethodInfo, bool> Idempotent = new();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        long? firstFailure = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await context.Invoke();
                return;
            }
            catch (Exception e) when ((e is ConnectionFailedException || IsRetriable(e) && IsIdempotent(context.InterfaceMethod))
                                      && Stopwatch.GetElapsedTime(firstFailure ??= Stopwatch.GetTimestamp()) < RetryWindow)
            {
                ClusterMetrics.RetriedCalls.Add(1);
                LogRetrying(context.InterfaceMethod?.Name, context.TargetId.ToString(), attempt, e.GetType().Name);
                // The first retry goes at once (after a drain the grain is usually placed elsewhere already); later ones
                // wait for membership to declare a crashed silo dead.
                if (attempt > 1) await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 200 * attempt)));
            }
        }
    }

    /// <summary>
    /// The call did not run to completion on a live activation: its silo died, stopped, or refused it. (A call whose
    /// connection could not even be opened was never sent, so any call is sent again then.)
    /// </summary>
    public static bool IsRetriable(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException;

    public static bool IsIdempotent(MethodInfo? method) =>
        method is not null && Idempotent.GetOrAdd(method, m => m.IsDefined(typeof(IdempotentAttribute), inherit: false));

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrying {Method} on {Grain} (attempt {Attempt}) after {Error}")]
    private partial void LogRetrying(string? method, string grain, int attempt, string error);
}

/// <summary>The homeserver's own cluster counters, on the <c>HomeServer.Cluster</c> meter.</summary>
public static class ClusterMetrics
{
    public const string MeterName = "HomeServer.Cluster";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Idempotent grain calls sent again after their silo went away or refused them.</summary>
    public static readonly Counter<long> RetriedCalls = Meter.CreateCounter<long>("homeserver.cluster.retried_calls");
}
