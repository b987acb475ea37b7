using System.Diagnostics.Metrics;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// The counters that show whether sync delivery shares its work, on the <c>HomeServer.Sync</c> meter (exported
/// over OTLP with the other <c>HomeServer.*</c> meters).
/// </summary>
public static class SyncMetrics
{
    public const string MeterName = "HomeServer.Sync";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Room events serialised to their shared client-format fragment (once per event in shared mode).</summary>
    public static readonly Counter<long> EventsSerialised = Meter.CreateCounter<long>("homeserver.sync.events_serialised");

    /// <summary>Pre-serialised room state snapshots built (tags <c>room</c>, <c>state_version</c>).</summary>
    public static readonly Counter<long> SnapshotBuilds = Meter.CreateCounter<long>("homeserver.sync.snapshot_builds");

    /// <summary>Messages a room sent to deliver one committed batch (one per silo with members in shared mode, one per member in naive mode).</summary>
    public static readonly Counter<long> FanOutMessages = Meter.CreateCounter<long>("homeserver.sync.fanout_messages");

    /// <summary>Committed batches fanned out; with <see cref="FanOutMessages"/> this gives messages per event batch.</summary>
    public static readonly Counter<long> FanOutBatches = Meter.CreateCounter<long>("homeserver.sync.fanout_batches");

    /// <summary>/sync responses assembled from shared fragments without reading the store.</summary>
    public static readonly Counter<long> SharedResponses = Meter.CreateCounter<long>("homeserver.sync.responses_from_shared_bytes");

    /// <summary>Tokens of shared responses whose event position moved over delivered events instead of going to the store.</summary>
    public static readonly Counter<long> CompactedTokens = Meter.CreateCounter<long>("homeserver.sync.tokens_compacted");

    /// <summary>Computations that read the store, including those that found nothing for the user (the long-poll then goes on).</summary>
    public static readonly Counter<long> StoreComputations = Meter.CreateCounter<long>("homeserver.sync.store_computations");

    /// <summary>/sync responses computed from the store.</summary>
    public static readonly Counter<long> StoreResponses = Meter.CreateCounter<long>("homeserver.sync.responses_from_store");

    /// <summary>Long-polls currently parked waiting for something new.</summary>
    public static readonly UpDownCounter<long> ParkedLongPolls = Meter.CreateUpDownCounter<long>("homeserver.sync.parked_long_polls");
}
