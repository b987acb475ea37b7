using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using HomeServer.Grains.Delivery;

namespace HomeServer.Server.Tests.Sync;

/// <summary>Sums what the <c>HomeServer.Sync</c> counters record while it listens, by instrument and <c>source</c> tag.</summary>
public sealed class SyncMeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();

    public SyncMeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SyncMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? source = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "source") source = tag.Value as string;
            }
            _totals.AddOrUpdate(Key(instrument.Name, source), value, (_, total) => total + value);
        });
        _listener.Start();
    }

    /// <summary>The sum of <paramref name="counter"/>'s measurements (only those with that <c>source</c> tag, when given).</summary>
    public long Total(Counter<long> counter, string? source = null) => _totals.GetValueOrDefault(Key(counter.Name, source));

    public long Total(UpDownCounter<long> counter) => _totals.GetValueOrDefault(Key(counter.Name, null));

    private static string Key(string instrument, string? source) => source is null ? instrument : $"{instrument}|{source}";

    public void Dispose() => _listener.Dispose();
}
