using HomeServer.Grains.Keys;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <param name="OneTimeKeyCounts">Unclaimed one-time keys per algorithm.</param>
/// <param name="UnusedFallbackKeyTypes">Algorithms whose fallback key no claim has used yet.</param>
internal sealed record DeviceKeyCounts(IReadOnlyDictionary<string, int> OneTimeKeyCounts, IReadOnlyList<string> UnusedFallbackKeyTypes)
{
    public static async Task<DeviceKeyCounts> ReadAsync(IHomeServerStore store, string userId, string deviceId, CancellationToken cancellationToken) =>
        new(await store.Keys.CountOneTimeKeysAsync(userId, deviceId, cancellationToken),
            await store.Keys.GetUnusedFallbackKeyAlgorithmsAsync(userId, deviceId, cancellationToken));
}

/// <summary>
/// The device_lists section of a response built from the store: between the since token and the response's token, the
/// users whose devices changed and who share a room with the user, those who came to share a room through the
/// membership changes the response covers, and those who no longer share any (<see cref="DeviceListDelta"/>). An
/// initial sync has none, as with Synapse: the client then queries the keys of every member it tracks.
/// </summary>
internal static class SyncDeviceLists
{
    public static async Task AddAsync(
        IHomeServerStore store, string userId, SyncToken? since, SyncToken until, SyncResult result, CancellationToken cancellationToken)
    {
        if (since is null) return;
        var (changed, left) = await DeviceListDelta.BetweenAsync(store, userId, since, until, cancellationToken);
        result.DeviceListsChanged.AddRange(changed);
        result.DeviceListsLeft.AddRange(left);
    }
}

/// <summary>
/// Each device's key counts as last read, so that a response built from shared events or an empty long-poll answer
/// carries them without a store read. Uploads and claims send the user's sync grain a OneTimeKeys notice, which drops
/// the cache; every store-path response reads the counts afresh anyway, so a lost notice is corrected by the next one.
/// A generation guards against caching a read that a notice overtook. Thread-safe: notices arrive off the grain's turns.
/// </summary>
internal sealed class DeviceKeyCountsCache
{
    private readonly Dictionary<string, DeviceKeyCounts> _byDevice = new(StringComparer.Ordinal);
    private long _generation;

    public void Invalidate()
    {
        lock (_byDevice)
        {
            _generation++;
            _byDevice.Clear();
        }
    }

    public async Task<DeviceKeyCounts> GetAsync(IHomeServerStore store, string userId, string deviceId, bool fresh, CancellationToken cancellationToken)
    {
        long generation;
        lock (_byDevice)
        {
            if (!fresh && _byDevice.TryGetValue(deviceId, out var cached)) return cached;
            generation = _generation;
        }
        var read = await DeviceKeyCounts.ReadAsync(store, userId, deviceId, cancellationToken);
        lock (_byDevice)
        {
            if (_generation == generation) _byDevice[deviceId] = read;
        }
        return read;
    }
}
