using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;

namespace HomeServer.Runtime.Placement;

/// <summary>Where a grain lives under a view: rendezvous hashing, or the silo named by the key of a silo-local grain.</summary>
internal static class GrainPlacement
{
    /// <summary>The owner among <paramref name="activeSilos"/>, or null when there is none (no silo, or a silo-local grain's silo is not Active).</summary>
    public static SiloAddress? SelectOwner(GrainInterface grainInterface, GrainId grain, IReadOnlyList<SiloAddress> activeSilos) =>
        grainInterface.IsSiloLocal ? SiloNamedBy(grain, activeSilos) : RendezvousPlacement.SelectOwner(grain, activeSilos);

    /// <summary>The exception for a call that has no owner: silo-local grains fail fast, others wait for a silo.</summary>
    public static Exception NoOwner(GrainInterface grainInterface, GrainId grain) =>
        grainInterface.IsSiloLocal
            ? new SiloUnavailableException($"Silo {grain.Key} of the silo-local grain {grain} is not active.")
            : new TransientRejectionException($"No active silo can host {grain} yet.");

    private static SiloAddress? SiloNamedBy(GrainId grain, IReadOnlyList<SiloAddress> activeSilos)
    {
        foreach (var silo in activeSilos)
        {
            if (string.Equals(silo.ToString(), grain.Key, StringComparison.Ordinal)) return silo;
        }
        return null;
    }
}
