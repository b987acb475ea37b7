using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Overload;

/// <summary>
/// The in-flight bounds of this process: a slot of the request's user (or client address) and then one of the process,
/// each with a short queue. A request that finds both a bound and its queue full, or waits longer than
/// <see cref="OverloadOptions.MaxQueueWait"/>, is shed.
/// </summary>
public sealed class RequestAdmission : IDisposable
{
    public const string MeterName = "HomeServer.Gateway";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Requests answered 429 because a bound and its queue were full; tag <c>bound</c> is <c>process</c> or <c>user</c>.</summary>
    private static readonly Counter<long> Shed = Meter.CreateCounter<long>("homeserver.gateway.requests_shed");

    private readonly OverloadOptions _options;
    private readonly ConcurrencyLimiter _process;
    private readonly PartitionedRateLimiter<string> _perUser;

    public RequestAdmission(IOptions<OverloadOptions> options)
    {
        _options = options.Value;
        _process = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentRequests,
            QueueLimit = _options.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        var perUser = new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentRequestsPerUser,
            QueueLimit = _options.QueueLimitPerUser,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        };
        // A partition whose slots are all free for a while is dropped by the partitioned limiter itself.
        _perUser = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetConcurrencyLimiter(key, _ => perUser));
    }

    public bool Enabled => _options.Enabled;

    /// <summary>Requests holding a slot of the process now; for tests and diagnostics.</summary>
    public long InFlight => _options.MaxConcurrentRequests - _process.GetStatistics()!.CurrentAvailablePermits;

    /// <summary>Requests waiting for a slot of the process now; for tests and diagnostics.</summary>
    public long Queued => _process.GetStatistics()!.CurrentQueuedCount;

    /// <summary>
    /// The slots of a request of <paramref name="partition"/> (a user id or a client address), to be disposed when it is
    /// answered; null when it is shed. Throws <see cref="OperationCanceledException"/> when the client goes away while it waits.
    /// </summary>
    public async ValueTask<IDisposable?> AdmitAsync(string partition, CancellationToken aborted)
    {
        CancellationTokenSource? waiting = null;
        RateLimitLease? user = null;
        try
        {
            user = _perUser.AttemptAcquire(partition);
            if (!user.IsAcquired)
            {
                user.Dispose();
                waiting = Waiting(aborted);
                user = await _perUser.AcquireAsync(partition, 1, waiting.Token);
                if (!user.IsAcquired) return Refuse(user, "user");
            }
            var process = _process.AttemptAcquire();
            if (!process.IsAcquired)
            {
                process.Dispose();
                waiting ??= Waiting(aborted);
                process = await _process.AcquireAsync(1, waiting.Token);
                if (!process.IsAcquired)
                {
                    process.Dispose();
                    return Refuse(user, "process");
                }
            }
            return new Slots(user, process);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            // Waited MaxQueueWait: the lease of the bound it waited for was never granted.
            var bound = user is { IsAcquired: true } ? "process" : "user";
            return Refuse(user, bound);
        }
        catch
        {
            user?.Dispose();
            throw;
        }
        finally
        {
            waiting?.Dispose();
        }
    }

    /// <summary>The <c>retry_after_ms</c> of a shed request: <see cref="OverloadOptions.RetryAfter"/> and up to half as much again.</summary>
    public long RetryAfterMs()
    {
        var baseMs = Math.Max(1, (long)_options.RetryAfter.TotalMilliseconds);
        return baseMs + Random.Shared.NextInt64(baseMs / 2 + 1);
    }

    private CancellationTokenSource Waiting(CancellationToken aborted)
    {
        var waiting = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        waiting.CancelAfter(_options.MaxQueueWait);
        return waiting;
    }

    private static IDisposable? Refuse(RateLimitLease? user, string bound)
    {
        user?.Dispose();
        Shed.Add(1, new KeyValuePair<string, object?>("bound", bound));
        return null;
    }

    public void Dispose()
    {
        _process.Dispose();
        _perUser.Dispose();
    }

    private sealed class Slots(RateLimitLease user, RateLimitLease process) : IDisposable
    {
        public void Dispose()
        {
            process.Dispose();
            user.Dispose();
        }
    }
}
