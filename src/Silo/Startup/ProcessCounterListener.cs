using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using HomeServer.Gateway.Admin;

namespace HomeServer.Silo.Startup;

/// <summary>
/// Listens to every <c>HomeServer.*</c> meter of the process, and to Orleans' meter, and keeps, per instrument, the running total of its
/// counters and up-down counters (since this listener started) and the latest value of its observable instruments,
/// each summed over tags. Histograms are not kept.
/// </summary>
internal sealed class ProcessCounterListener : IProcessCounters, IDisposable
{
    private const string MeterPrefix = "HomeServer.";
    private const string OrleansMeter = "Microsoft.Orleans";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Total> _totals = new(StringComparer.Ordinal);
    private readonly Lock _observing = new();
    private Dictionary<string, double> _observed = new(StringComparer.Ordinal);

    public ProcessCounterListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!instrument.Meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal) && instrument.Meter.Name != OrleansMeter) return;
            if (instrument is Histogram<long> or Histogram<int> or Histogram<double>) return;
            if (!instrument.IsObservable) _totals.TryAdd(instrument.Name, new Total());
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Record(instrument, value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Record(instrument, value));
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Record(instrument, value));
        _listener.Start();
    }

    public IReadOnlyDictionary<string, double> Snapshot()
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, total) in _totals) values[name] = total.Value;
        lock (_observing)
        {
            // Observable callbacks report current values, so each snapshot starts from none and sums what they report now.
            _observed = new Dictionary<string, double>(StringComparer.Ordinal);
            _listener.RecordObservableInstruments();
            foreach (var (name, value) in _observed) values[name] = value;
        }
        return values;
    }

    private void Record(Instrument instrument, double value)
    {
        if (instrument.IsObservable)
        {
            // Only called from RecordObservableInstruments, under _observing.
            _observed[instrument.Name] = _observed.GetValueOrDefault(instrument.Name) + value;
        }
        else if (_totals.TryGetValue(instrument.Name, out var total))
        {
            total.Add(value);
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Total
    {
        private long _bits;

        public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));

        public void Add(double value)
        {
            long seen, updated;
            do
            {
                seen = Interlocked.Read(ref _bits);
                updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
            }
            while (Interlocked.CompareExchange(ref _bits, updated, seen) != seen);
        }
    }
}
