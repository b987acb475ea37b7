using HomeServer.LoadGenerator.Http;

namespace HomeServer.LoadGenerator.Measurement;

/// <summary>Reads the server's <c>HomeServer.*</c> counters before and after a measured window.</summary>
public sealed class ServerCounters(MatrixApi api, User admin)
{
    public const string SnapshotBuilds = "homeserver.sync.snapshot_builds";
    public const string EventsSerialised = "homeserver.sync.events_serialised";
    public const string FanOutMessages = "homeserver.sync.fanout_messages";
    public const string FanOutBatches = "homeserver.sync.fanout_batches";

    public Task<IReadOnlyDictionary<string, double>> ReadAsync(CancellationToken ct) => api.CountersAsync(admin, ct);

    /// <summary>
    /// After minus before for every counter (a counter the server had not published yet counts from 0). Gauges such
    /// as live grains come out as their change too.
    /// </summary>
    public static SortedDictionary<string, double> Delta(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after)
    {
        var delta = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in after) delta[name] = value - before.GetValueOrDefault(name);
        return delta;
    }
}
