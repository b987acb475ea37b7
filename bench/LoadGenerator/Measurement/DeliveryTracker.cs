using System.Diagnostics;

namespace HomeServer.LoadGenerator.Measurement;

/// <summary>
/// Send ids issued and received by each client: a delivery's latency is the time the receiving client had the whole
/// /sync body minus the time the send was issued. Counts duplicates; ids outside the capacity are ignored.
/// </summary>
public sealed class DeliveryTracker(int clients, int capacity)
{
    private readonly long[] _issuedAt = new long[capacity];
    private readonly bool[][] _seen = Enumerable.Range(0, clients).Select(_ => new bool[capacity]).ToArray();
    private readonly Lock _lock = new();
    private readonly List<Delivery> _deliveries = [];
    private long _duplicates;

    public int Capacity => capacity;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public int Count
    {
        get { lock (_lock) return _deliveries.Count; }
    }

    public void Issued(int sendId, long timestamp) => Volatile.Write(ref _issuedAt[sendId], timestamp);

    public long IssuedAt(int sendId) => Volatile.Read(ref _issuedAt[sendId]);

    /// <summary>Called by client <paramref name="client"/>'s own poll loop only, so its row needs no lock.</summary>
    public void Received(int client, List<long> sendIds, long arrivedAt)
    {
        var batch = new List<Delivery>(sendIds.Count);
        foreach (var id in sendIds)
        {
            if (id < 0 || id >= capacity) continue;
            if (_seen[client][id]) { Interlocked.Increment(ref _duplicates); continue; }
            _seen[client][id] = true;
            var issued = IssuedAt((int)id);
            // An id from an earlier run on the same room carries no issue time of this run.
            if (issued == 0) continue;
            batch.Add(new Delivery((int)id, Stopwatch.GetElapsedTime(issued, arrivedAt).TotalMilliseconds));
        }
        lock (_lock) _deliveries.AddRange(batch);
    }

    public Delivery[] Deliveries(int fromSendId = 0, int toSendId = int.MaxValue)
    {
        lock (_lock) return _deliveries.Where(d => d.SendId >= fromSendId && d.SendId < toSendId).ToArray();
    }

    public int CountBetween(int fromSendId, int toSendId)
    {
        lock (_lock) return _deliveries.Count(d => d.SendId >= fromSendId && d.SendId < toSendId);
    }

    public readonly record struct Delivery(int SendId, double Milliseconds);
}
