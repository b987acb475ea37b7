namespace HomeServer.Grains.Rooms;

/// <summary>
/// Who is typing in a room and until when. Calls come from interleaved requests, the expiry timer and the writer,
/// so the few fields sit behind one lock; readers get an immutable <see cref="TypingState"/>.
/// </summary>
internal sealed class TypingTracker(Func<long> clockMs)
{
    public const long MaxTimeoutMs = 120_000;

    private readonly object _gate = new();
    private readonly Dictionary<string, long> _expiresAt = new(StringComparer.Ordinal);
    // Serials count in thousandths of a millisecond of the clock, so up to 1000 changes per millisecond stay below
    // the clock, and a new activation (which has forgotten who typed) starts above every serial of earlier ones.
    private const long SerialsPerMs = 1_000;

    private TypingState _state = new(clockMs() * SerialsPerMs, []);

    public TypingState State => Volatile.Read(ref _state);

    /// <summary>Starts, extends or stops the user's typing; true when the set of typing users changed.</summary>
    public bool Set(string userId, bool typing, long timeoutMs)
    {
        lock (_gate)
        {
            var changed = typing ? !_expiresAt.ContainsKey(userId) : _expiresAt.ContainsKey(userId);
            if (typing) _expiresAt[userId] = clockMs() + Math.Clamp(timeoutMs, 0, MaxTimeoutMs);
            else _expiresAt.Remove(userId);
            if (changed) Publish();
            return changed;
        }
    }

    /// <summary>Drops users whose timeout passed; true when any did.</summary>
    public bool Expire()
    {
        lock (_gate)
        {
            var now = clockMs();
            var expired = _expiresAt.Where(entry => entry.Value <= now).Select(entry => entry.Key).ToList();
            foreach (var userId in expired) _expiresAt.Remove(userId);
            if (expired.Count > 0) Publish();
            return expired.Count > 0;
        }
    }

    /// <summary>Drops the given users (e.g. they left the room); true when any was typing.</summary>
    public bool Remove(IEnumerable<string> userIds)
    {
        lock (_gate)
        {
            var removed = userIds.Count(userId => _expiresAt.Remove(userId));
            if (removed > 0) Publish();
            return removed > 0;
        }
    }

    /// <summary>Milliseconds until the next timeout, or null when nobody types.</summary>
    public long? NextExpiryInMs()
    {
        lock (_gate)
        {
            return _expiresAt.Count == 0 ? null : Math.Max(0, _expiresAt.Values.Min() - clockMs());
        }
    }

    private void Publish()
    {
        var serial = Math.Max(_state.Serial + 1, clockMs() * SerialsPerMs);
        Volatile.Write(ref _state, new TypingState(serial, _expiresAt.Keys.Order(StringComparer.Ordinal).ToList()));
    }
}
