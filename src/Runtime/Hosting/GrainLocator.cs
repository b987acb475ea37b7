using HomeServer.Runtime.Activation;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Placement;

namespace HomeServer.Runtime.Hosting;

/// <summary>One silo's <see cref="IGrainLocator"/>, over its catalog and membership view.</summary>
internal sealed class GrainLocator(SiloAddress self, GrainTypeRegistry registry, Catalog catalog, ClusterViewSource views) : IGrainLocator
{
    private readonly LocalOnlyInvoker _localOnly = new(catalog);

    public SiloAddress Self => self;

    public SiloAddress? OwnerOf<TGrain>(string key) where TGrain : IGrain
    {
        var grainInterface = registry.AddInterface(typeof(TGrain));
        return GrainPlacement.SelectOwner(grainInterface, new GrainId(grainInterface.Name, key), views.Current.ActiveSilos);
    }

    public bool IsActiveHere<TGrain>(string key) where TGrain : IGrain =>
        catalog.IsActive(new GrainId(registry.AddInterface(typeof(TGrain)).Name, key));

    public TGrain? GetIfActiveHere<TGrain>(string key) where TGrain : class, IGrain
    {
        var grainInterface = registry.AddInterface(typeof(TGrain));
        var grainId = new GrainId(grainInterface.Name, key);
        return catalog.IsActive(grainId) ? (TGrain)GrainProxy.Create(grainInterface, grainId, _localOnly) : null;
    }

    private sealed class LocalOnlyInvoker(Catalog catalog) : IGrainCallInvoker
    {
        public ValueTask<object?> InvokeAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken) =>
            catalog.InvokeIfActiveAsync(target, method, arguments, cancellationToken);
    }
}
