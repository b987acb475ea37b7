using System.Diagnostics.Metrics;
using HomeServer.Grains.Delivery;

namespace HomeServer.TestSupport;

/// <summary>Counts <see cref="SyncMetrics.SnapshotBuilds"/> of one room in this process while it listens, by state version.</summary>
public sealed class SnapshotBuildCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _byVersion = [];

    public SnapshotBuildCounter(string roomId)
    {
        // Read before listening: the instruments are published while SyncMetrics is being initialised.
        var counterName = SyncMetrics.SnapshotBuilds.Name;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SyncMetrics.MeterName && instrument.Name == counterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? room = null, version = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "room") room = tag.Value as string;
                if (tag.Key == "state_version") version = tag.Value as string;
            }
            if (room != roomId || version is null) return;
            lock (_byVersion) _byVersion[version] = _byVersion.GetValueOrDefault(version) + value;
        });
        _listener.Start();
    }

    public long Count(string version)
    {
        lock (_byVersion) return _byVersion.GetValueOrDefault(version);
    }

    public long Total
    {
        get
        {
            lock (_byVersion) return _byVersion.Values.Sum();
        }
    }

    public Dictionary<string, long> ByVersion()
    {
        lock (_byVersion) return new Dictionary<string, long>(_byVersion);
    }

    public void Dispose() => _listener.Dispose();
}
