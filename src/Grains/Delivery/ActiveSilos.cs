using Orleans.Runtime;

namespace HomeServer.Grains.Delivery;

/// <summary>The silos of the cluster that are active now, as this silo's membership view has them.</summary>
public sealed class ActiveSilos(IClusterMembershipService membership)
{
    public IReadOnlyList<SiloAddress> Current() =>
        membership.CurrentSnapshot.Members.Values
            .Where(member => member.Status == SiloStatus.Active)
            .Select(member => member.SiloAddress)
            .ToList();
}
