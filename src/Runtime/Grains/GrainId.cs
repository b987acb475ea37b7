namespace HomeServer.Runtime;

/// <summary>Identity of a grain: its grain type name and a string key. Stable across processes and builds.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";

    /// <summary>A stable 64-bit hash (FNV-1a over UTF-16 code units), identical in every process.</summary>
    public ulong StableHash()
    {
        var hash = StableHashing.Fnv1a(Type, StableHashing.FnvOffset);
        hash = StableHashing.Fnv1a("/", hash);
        return StableHashing.Fnv1a(Key, hash);
    }
}

internal static class StableHashing
{
    public const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Fnv1a(string text, ulong hash)
    {
        foreach (var c in text)
        {
            hash ^= c;
            hash *= FnvPrime;
        }
        return hash;
    }

    /// <summary>SplitMix64 finaliser: spreads the bits of a combined hash so rendezvous weights are uniform.</summary>
    public static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9UL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebUL;
        x ^= x >> 31;
        return x;
    }
}
