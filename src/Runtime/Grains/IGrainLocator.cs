using HomeServer.Runtime.Membership;

namespace HomeServer.Runtime;

/// <summary>
/// Placement as seen from inside a silo: which silo owns a grain under the current view, and which grains are active
/// here. Lets a grain group work by silo and reach local activations without waking grains that are not running.
/// </summary>
public interface IGrainLocator
{
    /// <summary>This silo.</summary>
    SiloAddress Self { get; }

    /// <summary>The silo that owns the grain under the current view, or null when no silo is Active.</summary>
    SiloAddress? OwnerOf<TGrain>(string key) where TGrain : IGrain;

    /// <summary>Whether the grain has an activation on this silo (never activates it).</summary>
    bool IsActiveHere<TGrain>(string key) where TGrain : IGrain;

    /// <summary>
    /// A reference that calls the grain's activation on this silo only, or null when it has none. If the activation
    /// goes away before a call reaches it, the call fails with <see cref="GrainNotActiveException"/> and nothing is
    /// activated. Calls run without serialisation, as every local call does.
    /// </summary>
    TGrain? GetIfActiveHere<TGrain>(string key) where TGrain : class, IGrain;
}
