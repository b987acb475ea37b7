namespace HomeServer.Grains.Federation.Outbound;

/// <summary>How transactions to other servers are retried and when a destination catches up (configuration section <c>Federation:Outbound</c>).</summary>
public sealed class FederationOutboundOptions
{
    public const string SectionName = "Federation:Outbound";

    /// <summary>The wait after a transaction's first failure; it doubles with each failure in a row.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two attempts, however long the destination has been failing.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A destination owed more events than this when it comes back (or when its sender starts) gets only the newest event
    /// of each room and fetches the rest itself; at or below it, everything in order (docs/adr/0042-outbound-catch-up.md).
    /// </summary>
    public int CatchUpThreshold { get; set; } = MaxCatchUpThreshold;

    /// <summary>The backlog is counted up to the threshold + 1 in one store query, whose limit this stays under.</summary>
    public const int MaxCatchUpThreshold = HomeServer.Storage.StoreLimits.MaxQueryLimit - 1;

    public bool IsValid =>
        InitialRetryDelay > TimeSpan.Zero && MaxRetryDelay >= InitialRetryDelay && CatchUpThreshold is > 0 and <= MaxCatchUpThreshold;
}
