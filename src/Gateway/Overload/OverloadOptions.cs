namespace HomeServer.Gateway.Overload;

/// <summary>
/// How many requests one gateway process works on at once, in total and per user, before it sheds the rest with 429
/// <c>M_LIMIT_EXCEEDED</c> (docs/adr/0028-overload-admission.md). Bound from the <c>Overload</c> section. Parked
/// long-polls, health checks, metrics and <c>/versions</c> are never counted.
/// </summary>
public sealed class OverloadOptions
{
    public const string SectionName = "Overload";

    /// <summary>False admits every request (no bound at all).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests the process works on at once (32 per processor); more wait in the queue.</summary>
    public int MaxConcurrentRequests { get; set; } = 32 * Environment.ProcessorCount;

    /// <summary>Requests waiting for one of the process's slots (as many as the slots); past it, a new request is shed at once.</summary>
    public int QueueLimit { get; set; } = 32 * Environment.ProcessorCount;

    /// <summary>Requests one user (or, unauthenticated, one client address) has in work at once.</summary>
    public int MaxConcurrentRequestsPerUser { get; set; } = 32;

    /// <summary>Requests of one user waiting for one of the user's slots.</summary>
    public int QueueLimitPerUser { get; set; } = 16;

    /// <summary>The longest a request waits in the queues before it is shed after all.</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The <c>retry_after_ms</c> of a shed request, to which up to half as much again is added at random so retries spread out.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}
