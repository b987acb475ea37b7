namespace HomeServer.Grains.Federation.Outbound;

/// <summary>How transactions to other servers are retried (configuration section <c>Federation:Outbound</c>).</summary>
public sealed class FederationOutboundOptions
{
    public const string SectionName = "Federation:Outbound";

    /// <summary>The wait after a transaction's first failure; it doubles with each failure in a row.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two attempts, however long the destination has been failing.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    public bool IsValid => InitialRetryDelay > TimeSpan.Zero && MaxRetryDelay >= InitialRetryDelay;
}
