using System.Collections.Concurrent;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// The sync grains active on this silo, by user id: a sync grain adds itself when it activates and removes itself when it
/// deactivates. The room feed hub hands news only to these, so delivery never activates the sync grain of a user who
/// is not syncing.
/// </summary>
public sealed class LocalSyncGrains
{
    private readonly ConcurrentDictionary<string, ILocalFeedReceiver> _active = new(StringComparer.Ordinal);

    public int Count => _active.Count;

    public void Add(string userId, ILocalFeedReceiver grain) => _active[userId] = grain;

    /// <summary>Removes the grain, unless another activation of the same user has taken its place meanwhile.</summary>
    public void Remove(string userId, ILocalFeedReceiver grain) => _active.TryRemove(new KeyValuePair<string, ILocalFeedReceiver>(userId, grain));

    public ILocalFeedReceiver? Get(string userId) => _active.GetValueOrDefault(userId);
}
