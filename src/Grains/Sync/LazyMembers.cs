namespace HomeServer.Grains.Sync;

/// <summary>
/// Which members' m.room.member events each device has been sent, per room, so lazy-loading can leave out redundant
/// ones. Kept only in memory: after a restart the first responses may repeat some, which clients tolerate.
/// Not thread-safe: the grain guards it.
/// </summary>
internal sealed class LazyMembers
{
    private const int MaxEntriesPerDevice = 50_000;
    private readonly Dictionary<string, HashSet<(string RoomId, string UserId)>> _sent = new(StringComparer.Ordinal);

    public void Reset(string deviceId) => _sent.Remove(deviceId);

    public bool WasSent(string deviceId, string roomId, string userId) =>
        _sent.TryGetValue(deviceId, out var sent) && sent.Contains((roomId, userId));

    public void Add(string deviceId, string roomId, string userId)
    {
        if (!_sent.TryGetValue(deviceId, out var sent)) _sent[deviceId] = sent = [];
        if (sent.Count >= MaxEntriesPerDevice) sent.Clear();
        sent.Add((roomId, userId));
    }
}
