using Microsoft.Extensions.Caching.Memory;

namespace HomeServer.Gateway.Limits;

/// <summary>
/// Inline /sync filters already found within the input limits. A client sends the same filter with every /sync, and
/// parsing and checking it each time cost a few percent of the server's CPU under fan-out. Only filters that passed
/// are kept (a refused one is checked again and refused again), at most <see cref="Capacity"/> of them, none longer
/// than <see cref="MaxCachedLength"/> characters.
/// </summary>
public sealed class CheckedInlineFilters : IDisposable
{
    public const int Capacity = 1024;
    public const int MaxCachedLength = 4096;

    private static readonly TimeSpan KeptWhileUsedWithin = TimeSpan.FromMinutes(10);

    private readonly MemoryCache _passed = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public void Require(string filter, Action<string> check)
    {
        if (_passed.TryGetValue(filter, out _)) return;
        check(filter);
        if (filter.Length <= MaxCachedLength)
            _passed.Set(filter, true, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = KeptWhileUsedWithin });
    }

    public void Dispose() => _passed.Dispose();
}
