namespace HomeServer.Grains.Sync;

/// <summary>How many initial and full-state syncs a silo builds at once (configuration section <c>SyncDelivery</c>, docs/adr/0027).</summary>
public sealed class InitialSyncOptions
{
    public const string SectionName = "SyncDelivery";

    /// <summary>
    /// Initial (no since token) and full_state syncs being built at once on a silo; more wait in a queue, in order of
    /// arrival, until one finishes. Building is CPU work, so a few per core keep the cores busy while the memory of the
    /// builds in progress stays the same however many clients ask at once.
    /// </summary>
    public int MaxConcurrentInitialSyncs { get; set; } = 2 * Environment.ProcessorCount;
}
