using System.Collections.Concurrent;

namespace HomeServer.Runtime.Invocation;

/// <summary>
/// Which grain interfaces exist and which class implements each. Silos register implementations; clients only
/// need interfaces, which are learned from GetGrain&lt;T&gt; and from <see cref="AddInterface"/>.
/// </summary>
public sealed class GrainTypeRegistry
{
    private readonly ConcurrentDictionary<string, GrainInterface> _interfaces = new();
    private readonly ConcurrentDictionary<string, Type> _implementations = new();

    public GrainTypeRegistry AddGrain<TInterface, TGrain>()
        where TInterface : IGrain
        where TGrain : Grain, TInterface
    {
        var grainInterface = AddInterface(typeof(TInterface));
        _implementations[grainInterface.Name] = typeof(TGrain);
        return this;
    }

    internal GrainInterface AddInterface(Type interfaceType)
    {
        var grainInterface = GrainInterface.For(interfaceType);
        var existing = _interfaces.GetOrAdd(grainInterface.Name, grainInterface);
        if (existing.Type != interfaceType)
            throw new ArgumentException($"Grain type name {grainInterface.Name} is used by both {existing.Type} and {interfaceType}.");
        return grainInterface;
    }

    internal GrainInterface GetInterface(string grainType) =>
        _interfaces.TryGetValue(grainType, out var grainInterface)
            ? grainInterface
            : throw new UnknownGrainTypeException($"Unknown grain type {grainType}.");

    internal Type GetImplementation(string grainType) =>
        _implementations.TryGetValue(grainType, out var type)
            ? type
            : throw new UnknownGrainTypeException($"No grain class implements grain type {grainType} on this silo.");

    public bool HasImplementation(string grainType) => _implementations.ContainsKey(grainType);
}
