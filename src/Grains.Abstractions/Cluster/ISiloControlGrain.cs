using Orleans;

namespace HomeServer.Grains.Cluster;

/// <summary>Operations on one silo (key: the silo's address as <c>host:port@generation</c>; the grain runs on that silo).</summary>
[Alias("silo-control")]
public interface ISiloControlGrain : IGrainWithStringKey
{
    /// <summary>Starts a graceful drain of the silo, as SIGTERM does, and returns without waiting for it.</summary>
    Task DrainAsync();

    /// <summary>The build of the homeserver this silo runs (Cluster:BuildVersion), so peers can tell a mixed cluster.</summary>
    [Idempotent]
    Task<string> GetBuildVersionAsync();
}
