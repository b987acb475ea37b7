using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace HomeServer.Grains.Cluster;

/// <summary>
/// Places a grain on the silo its key names (<see cref="SiloAddress.ToParsableString"/>) and nowhere else: one grain per
/// silo, such as the room feed hub. A key naming a silo that is not active fails the call at once with
/// <see cref="SiloUnavailableException"/> instead of placing the grain elsewhere.
/// </summary>
[GenerateSerializer, Immutable, Alias("hs.SiloKeyedPlacement")]
public sealed class SiloKeyedPlacement : PlacementStrategy
{
    public static SiloKeyedPlacement Instance { get; } = new();

    /// <summary>The key of the silo-keyed grain that lives on <paramref name="silo"/>.</summary>
    public static string KeyOf(SiloAddress silo) => silo.ToParsableString();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyedPlacementAttribute() : PlacementAttribute(SiloKeyedPlacement.Instance);

public sealed class SiloKeyedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        SiloAddress silo;
        try
        {
            silo = SiloAddress.FromParsableString(key);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"'{key}' is not a silo address; a silo-keyed grain is keyed by one.");
        }
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new SiloUnavailableException($"Silo {key} is not active; its {target.GrainIdentity.Type} grain cannot be placed elsewhere.");
        return Task.FromResult(silo);
    }
}
