namespace HomeServer.Grains.Federation.Transactions;

/// <summary>How far this server goes to fill a gap before a received event (configuration section <c>Federation:Inbound</c>).</summary>
public sealed class FederationInboundOptions
{
    public const string SectionName = "Federation:Inbound";

    public const int DefaultMaxGapEvents = 1_000;

    /// <summary>The most events one gap's <c>/get_missing_events</c> rounds fetch; past it the gap is bridged by its state alone (docs/adr/0048-gap-history.md).</summary>
    public int MaxGapEvents { get; set; } = DefaultMaxGapEvents;

    /// <summary>The upper limit keeps a fill's memory (at most 64 KiB an event) and its time under a transaction's.</summary>
    public const int MaxMaxGapEvents = 10_000;

    public bool IsValid => MaxGapEvents is > 0 and <= MaxMaxGapEvents;
}
