using System.Diagnostics.Metrics;

namespace HomeServer.Runtime.Hosting;

/// <summary>
/// Counters of the runtime, published on the <c>HomeServer.Runtime</c> meter (exported with OpenTelemetry by
/// the host). Adding to an instrument nobody listens to costs a branch.
/// </summary>
public static class RuntimeMetrics
{
    public const string MeterName = "HomeServer.Runtime";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Calls this process sent to another silo.</summary>
    public static readonly Counter<long> RemoteCalls = Meter.CreateCounter<long>("homeserver.runtime.remote_calls");

    /// <summary>Calls that reached a silo which was not the owner and were forwarded.</summary>
    public static readonly Counter<long> ForwardedCalls = Meter.CreateCounter<long>("homeserver.runtime.forwarded_calls");

    /// <summary>Calls retried after a transient rejection or an unavailable silo (tag <c>reason</c>).</summary>
    public static readonly Counter<long> RetriedCalls = Meter.CreateCounter<long>("homeserver.runtime.retried_calls");

    public static readonly Counter<long> TimedOutCalls = Meter.CreateCounter<long>("homeserver.runtime.timed_out_calls");

    public static readonly Counter<long> Activations = Meter.CreateCounter<long>("homeserver.runtime.activations_created");

    public static readonly Counter<long> Deactivations = Meter.CreateCounter<long>("homeserver.runtime.deactivations");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Silo, byte> Silos = new();

    static RuntimeMetrics()
    {
        Meter.CreateObservableGauge("homeserver.runtime.grains", () =>
            Silos.Keys.Select(silo => new Measurement<int>(silo.ActivationCount, SiloTag(silo))));
        Meter.CreateObservableGauge("homeserver.runtime.membership_version", () =>
            Silos.Keys.Select(silo => new Measurement<long>(silo.Membership.Current.Version, SiloTag(silo))));
    }

    private static KeyValuePair<string, object?> SiloTag(Silo silo) => new("silo", silo.Address.ToString());

    /// <summary>Includes the silo in the per-silo gauges (live activations, membership version) while it runs.</summary>
    internal static void Observe(Silo silo) => Silos.TryAdd(silo, 0);

    internal static void Forget(Silo silo) => Silos.TryRemove(silo, out _);
}
