namespace HomeServer.Grains.Sync;

/// <summary>How many long-polling /sync requests a user's sync grain holds at once (docs/adr/0013-input-limits.md).</summary>
public sealed class ParkedSyncOptions
{
    /// <summary>Bound from the same configuration section as the gateway's input limits.</summary>
    public const string SectionName = "InputLimits";

    /// <summary>
    /// Waiting requests per user. A device has at most one (its newer request supersedes the older); beyond this many
    /// devices waiting at once, a new one is refused with 429 <c>M_LIMIT_EXCEEDED</c>.
    /// </summary>
    public int MaxParkedSyncsPerUser { get; set; } = 20;
}
