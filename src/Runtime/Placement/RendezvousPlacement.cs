using HomeServer.Runtime.Membership;

namespace HomeServer.Runtime.Placement;

/// <summary>
/// Rendezvous (highest-random-weight) hashing: a grain's owner is the Active silo with the highest
/// weight(grain, silo). Every silo and client with the same view computes the same owner with no directory;
/// when a silo leaves only its grains move, spread evenly over the rest (see docs/adr/0003).
/// </summary>
public static class RendezvousPlacement
{
    public static SiloAddress? SelectOwner(GrainId grain, IReadOnlyList<SiloAddress> activeSilos)
    {
        if (activeSilos.Count == 0) return null;
        var grainHash = grain.StableHash();
        SiloAddress? best = null;
        ulong bestWeight = 0;
        foreach (var silo in activeSilos)
        {
            var weight = StableHashing.Mix(grainHash ^ SiloHash(silo));
            if (best is null || weight > bestWeight)
            {
                best = silo;
                bestWeight = weight;
            }
        }
        return best;
    }

    // The generation is deliberately left out: a silo restarted on the same endpoint gets back the same grains.
    private static ulong SiloHash(SiloAddress silo) =>
        StableHashing.Mix(StableHashing.Fnv1a(silo.Host, StableHashing.FnvOffset) ^ (ulong)silo.Port * 0x9E3779B97F4A7C15UL);
}
