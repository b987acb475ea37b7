using System.Diagnostics.Metrics;
using HomeServer.Runtime.Hosting;

namespace HomeServer.Runtime.Tests;

public sealed class RuntimeMetricsTests
{
    [Fact]
    public async Task The_grains_gauge_counts_live_activations_per_silo()
    {
        await using var cluster = await Clusters.StartAsync(2, new SharedStore());
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => cluster.Client.GetGrain<ICounterGrain>($"m{i}").GetAsync()));

        var perSilo = new Dictionary<string, int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName && instrument.Name == "homeserver.runtime.grains") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag.Key == "silo") perSilo[(string)tag.Value!] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();

        var ours = cluster.Silos.Select(s => s.Address.ToString()).ToArray();
        Assert.Equal(40, ours.Sum(silo => perSilo.GetValueOrDefault(silo)));
        Assert.All(ours, silo => Assert.True(perSilo[silo] > 0));
    }
}
