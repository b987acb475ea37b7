namespace HomeServer.Grains.Sync;

/// <summary>
/// The long-polls a sync grain holds, at most one per device: a device's new request supersedes its older one (the
/// client gave up on it, or lost the connection without the server noticing), which then answers at once with an
/// empty response. Thread-safe: requests of one grain interleave.
/// </summary>
internal sealed class ParkedSyncs(int maxPerUser)
{
    private readonly Dictionary<string, ParkedSync> _byDevice = [];

    public int Count
    {
        get
        {
            lock (_byDevice) return _byDevice.Count;
        }
    }

    /// <summary>Registers a waiting request of <paramref name="deviceId"/>; M_LIMIT_EXCEEDED when too many devices already wait.</summary>
    public ParkedSync Park(string deviceId)
    {
        var parked = new ParkedSync();
        ParkedSync? older;
        lock (_byDevice)
        {
            if (!_byDevice.TryGetValue(deviceId, out older) && _byDevice.Count >= maxPerUser)
                throw new MatrixRequestException("M_LIMIT_EXCEEDED", $"At most {maxPerUser} devices of a user may wait on /sync at once.");
            _byDevice[deviceId] = parked;
        }
        older?.Supersede();
        return parked;
    }

    public void Release(string deviceId, ParkedSync parked)
    {
        lock (_byDevice)
        {
            if (_byDevice.TryGetValue(deviceId, out var current) && current == parked) _byDevice.Remove(deviceId);
        }
        parked.Dispose();
    }
}

internal sealed class ParkedSync : IDisposable
{
    private readonly CancellationTokenSource _superseded = new();

    public CancellationToken Superseded => _superseded.Token;

    public bool IsSuperseded => _superseded.IsCancellationRequested;

    public void Supersede()
    {
        try
        {
            _superseded.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Released meanwhile: nothing waits on it any more.
        }
    }

    public void Dispose() => _superseded.Dispose();
}
