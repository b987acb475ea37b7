using System.Diagnostics;
using HomeServer.Runtime.Activation;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Placement;
using HomeServer.Runtime.Transport;

namespace HomeServer.Runtime.Hosting;

/// <summary>
/// Sends each call to the grain's owner under the current view: the local catalog when that is this silo,
/// otherwise the owner's connection. Calls rejected as transient (they never ran), and idempotent calls whose
/// silo became unavailable, are retried with backoff after refreshing the view until the call timeout.
/// </summary>
internal sealed class GrainCallRouter(
    SiloAddress? self,
    Catalog? catalog,
    ClusterViewSource views,
    ConnectionPool connections,
    TimeSpan responseTimeout) : IGrainCallInvoker
{
    public const int MaxHops = 2;

    public TimeSpan ResponseTimeout => responseTimeout;

    public ValueTask<object?> InvokeAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken)
    {
        if (catalog is not null && IsLocalOwner(target, method.Interface))
        {
            var local = catalog.InvokeAsync(target, method, arguments, cancellationToken);
            return local.IsCompletedSuccessfully ? local : CompleteLocalAsync(local, target, method, arguments, cancellationToken);
        }
        return InvokeWithRetriesAsync(target, method, arguments, hops: 0, responseTimeout, cancellationToken);
    }

    private async ValueTask<object?> CompleteLocalAsync(ValueTask<object?> local, GrainId target, GrainMethod method, object?[] arguments,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            return await AwaitLocalAsync(local, target, method, responseTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRetryable(ex, method) && clock.Elapsed < responseTimeout)
        {
            return await InvokeWithRetriesAsync(target, method, arguments, hops: 0, responseTimeout - clock.Elapsed, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private static async ValueTask<object?> AwaitLocalAsync(ValueTask<object?> local, GrainId target, GrainMethod method, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        if (local.IsCompleted) return await local.ConfigureAwait(false);
        var task = local.AsTask();
        try
        {
            return await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw Timeout(target, method, timeout);
        }
    }

    private bool IsLocalOwner(GrainId target, GrainInterface grainInterface)
    {
        var active = views.Current.ActiveSilos;
        return active.Count == 1 && !grainInterface.IsSiloLocal
            ? active[0] == self
            : GrainPlacement.SelectOwner(grainInterface, target, active) == self;
    }

    /// <summary>Calls the owner; used for first calls, retries and forwarding by a silo that is not the owner.</summary>
    public async ValueTask<object?> InvokeWithRetriesAsync(GrainId target, GrainMethod method, object?[] arguments, int hops,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            var remaining = timeout - clock.Elapsed;
            try
            {
                if (remaining <= TimeSpan.Zero) throw Timeout(target, method, timeout);
                return await InvokeOnceAsync(target, method, arguments, hops, remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRetryable(ex, method) && clock.Elapsed < timeout && !cancellationToken.IsCancellationRequested)
            {
                RuntimeMetrics.RetriedCalls.Add(1, new KeyValuePair<string, object?>("reason", ex.GetType().Name));
                var backoff = TimeSpan.FromMilliseconds(Math.Min(500, 5 << Math.Min(attempt, 7)) * (0.5 + Random.Shared.NextDouble() / 2));
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                try
                {
                    await views.RefreshAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception refreshError) when (refreshError is not OperationCanceledException)
                {
                    // The table may be briefly unreachable; keep retrying with the view we have.
                }
            }
        }
    }

    /// <summary>Silo-local grains are never retried after their silo became unavailable: they cannot live anywhere else.</summary>
    private static bool IsRetryable(Exception ex, GrainMethod method) =>
        ex is TransientRejectionException || (ex is SiloUnavailableException && method.IsIdempotent && !method.Interface.IsSiloLocal);

    private async ValueTask<object?> InvokeOnceAsync(GrainId target, GrainMethod method, object?[] arguments, int hops,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var owner = GrainPlacement.SelectOwner(method.Interface, target, views.Current.ActiveSilos)
            ?? throw GrainPlacement.NoOwner(method.Interface, target);
        if (owner == self && catalog is not null)
        {
            var local = catalog.InvokeAsync(target, method, arguments, cancellationToken);
            return await AwaitLocalAsync(local, target, method, timeout, cancellationToken).ConfigureAwait(false);
        }
        var connection = await connections.GetAsync(owner, cancellationToken).ConfigureAwait(false);
        RuntimeMetrics.RemoteCalls.Add(1);
        return await connection.SendRequestAsync(target, method, arguments, timeout, hops, cancellationToken).ConfigureAwait(false);
    }

    private static GrainCallTimeoutException Timeout(GrainId target, GrainMethod method, TimeSpan timeout)
    {
        RuntimeMetrics.TimedOutCalls.Add(1);
        return new($"Call to {target}.{method.Name} did not complete within {timeout.TotalSeconds:0.###} s.");
    }
}
