using System.Collections.Concurrent;
using HomeServer.Grains.Sync;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// The sync grains active on this silo, by user id: a sync grain adds itself when it activates and removes itself when it
/// deactivates. The room feed hub hands news only to these, so delivery never activates the sync grain of a user who
/// is not syncing.
/// </summary>
public sealed class LocalSyncGrains
{
    private readonly ConcurrentDictionary<string, ISyncGrain> _active = new(StringComparer.Ordinal);

    public int Count => _active.Count;

    public void Add(string userId, ISyncGrain grain) => _active[userId] = grain;

    public void Remove(string userId) => _active.TryRemove(userId, out _);

    public ISyncGrain? Get(string userId) => _active.GetValueOrDefault(userId);
}
