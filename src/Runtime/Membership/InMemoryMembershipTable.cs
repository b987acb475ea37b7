namespace HomeServer.Runtime.Membership;

/// <summary>The membership table of a single process: single-node mode and in-process test clusters.</summary>
public sealed class InMemoryMembershipTable : IMembershipTable
{
    private readonly object _lock = new();
    private readonly Dictionary<SiloAddress, MembershipEntry> _rows = new();
    private long _version;

    public Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        lock (_lock) return Task.FromResult(new MembershipSnapshot([.. _rows.Values], _version));
    }

    public Task<bool> TryInsertAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_version != expectedVersion || _rows.ContainsKey(entry.Address)) return Task.FromResult(false);
            _rows[entry.Address] = entry;
            _version++;
            return Task.FromResult(true);
        }
    }

    public Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_version != expectedVersion || !_rows.ContainsKey(entry.Address)) return Task.FromResult(false);
            _rows[entry.Address] = entry;
            _version++;
            return Task.FromResult(true);
        }
    }

    public Task HeartbeatAsync(SiloAddress address, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_rows.TryGetValue(address, out var row)) _rows[address] = row with { IAmAliveTime = now };
        }
        return Task.CompletedTask;
    }

    public Task<int> CleanupDefunctAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var defunct = _rows.Values.Where(r => r.Status != SiloStatus.Active && r.IAmAliveTime < cutoff).ToList();
            foreach (var row in defunct) _rows.Remove(row.Address);
            return Task.FromResult(defunct.Count);
        }
    }
}
