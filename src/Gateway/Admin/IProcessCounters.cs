namespace HomeServer.Gateway.Admin;

/// <summary>
/// The current values of the process's own <c>HomeServer.*</c> counters and gauges, by instrument name, summed over
/// their tags. The host provides it; the gateway only serves it to admins.
/// </summary>
public interface IProcessCounters
{
    IReadOnlyDictionary<string, double> Snapshot();
}
