namespace HomeServer.Grains.Tests.Delivery;

/// <summary>
/// Requests of one device in which each uses the previous response's next_batch, and what they delivered: per room
/// the room position of the last event received. A chain starts with an initial sync or from a token issued earlier.
/// </summary>
public sealed class SyncChain(int id, string userId, string deviceId, string? start, IReadOnlyDictionary<string, long> cursors)
{
    public int Id { get; } = id;

    public string UserId { get; } = userId;

    public string DeviceId { get; } = deviceId;

    /// <summary>The since token of the chain's next request; null before an initial sync.</summary>
    public string? Since { get; private set; } = start;

    public int Responses { get; private set; }

    /// <summary>Per room the chain follows, the room position of the last event delivered.</summary>
    public Dictionary<string, long> Cursors { get; } = new(cursors, StringComparer.Ordinal);

    public void Advance(string nextBatch)
    {
        Since = nextBatch;
        Responses++;
    }

    public override string ToString() => $"chain {Id} ({UserId} {DeviceId})";
}
