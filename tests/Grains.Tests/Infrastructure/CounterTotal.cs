using System.Diagnostics.Metrics;

namespace HomeServer.Grains.Tests.Infrastructure;

/// <summary>The total a counter records while this object exists (from every silo of the process).</summary>
public sealed class CounterTotal : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterTotal(string meter, string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == meter && published.Name == instrument) listener.EnableMeasurementEvents(published);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
