using HomeServer.Runtime.Membership;

namespace HomeServer.Runtime.Hosting;

/// <summary>Operator actions on the cluster, available in silos and in gateways (cluster clients).</summary>
public interface IClusterControl
{
    /// <summary>Re-reads the membership table and returns the view.</summary>
    Task<ClusterView> ReadMembershipAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Asks a running silo to drain and stop, as SIGTERM would. Returns once the silo accepted; the drain itself
    /// proceeds in the background (watch its status go ShuttingDown, then Dead).
    /// </summary>
    Task RequestDrainAsync(SiloAddress silo, CancellationToken cancellationToken);
}
