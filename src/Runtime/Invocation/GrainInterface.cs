using System.Collections.Frozen;
using System.Reflection;

namespace HomeServer.Runtime.Invocation;

/// <summary>Metadata of one grain interface: its wire name and its methods, keyed by name and by MethodInfo.</summary>
internal sealed class GrainInterface
{
    private GrainInterface(Type type)
    {
        if (!type.IsInterface || !typeof(IGrain).IsAssignableFrom(type))
            throw new UnknownGrainTypeException($"{type.FullName} is not a grain interface (an interface deriving from IGrain).");
        Type = type;
        Name = type.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? type.FullName!;
        IsSiloLocal = type.IsDefined(typeof(SiloLocalPlacementAttribute), inherit: false);

        var methods = new[] { type }.Concat(type.GetInterfaces())
            .Where(i => i != typeof(IGrain))
            .SelectMany(i => i.GetMethods())
            .ToArray();
        var overloaded = methods.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (overloaded is not null)
            throw new ArgumentException($"Grain interface {Name} overloads {overloaded.Key}; grain methods are called by name and must be unique.");

        var byName = methods.ToDictionary(m => m.Name, m => new GrainMethod(this, m));
        MethodsByName = byName.ToFrozenDictionary();
        MethodsByInfo = byName.Values.ToFrozenDictionary(m => m.Method);
    }

    public Type Type { get; }
    public string Name { get; }

    /// <summary>Marked <see cref="SiloLocalPlacementAttribute"/>: the key names the silo that hosts it.</summary>
    public bool IsSiloLocal { get; }
    public FrozenDictionary<string, GrainMethod> MethodsByName { get; }
    public FrozenDictionary<MethodInfo, GrainMethod> MethodsByInfo { get; }

    public GrainMethod GetMethod(string name) =>
        MethodsByName.TryGetValue(name, out var method)
            ? method
            : throw new UnknownGrainMethodException($"Grain interface {Name} has no method {name}.");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, GrainInterface> Cache = new();

    public static GrainInterface For(Type type) => Cache.GetOrAdd(type, static t => new GrainInterface(t));
}
