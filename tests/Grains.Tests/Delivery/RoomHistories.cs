using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Delivery;

/// <summary>
/// The rooms' histories as the store has them, read forward and kept (histories only grow). Room positions are dense
/// from 1, so an event's room position is its place in the history.
/// </summary>
public sealed class RoomHistories(IHomeServerStore store)
{
    private const int PageSize = 500;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, List<StoredEvent>> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredEvent> _byEventId = new(StringComparer.Ordinal);

    /// <summary>The event of the room with that id, or null when the room's history does not hold it.</summary>
    public async Task<StoredEvent?> FindAsync(string roomId, string eventId)
    {
        await _gate.WaitAsync();
        try
        {
            if (_byEventId.TryGetValue(eventId, out var known)) return known.RoomId == roomId ? known : null;
            await ReadNewEventsAsync(roomId);
            return _byEventId.TryGetValue(eventId, out var found) && found.RoomId == roomId ? found : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The room's whole history as the store has it now.</summary>
    public async Task<IReadOnlyList<StoredEvent>> ReadAsync(string roomId)
    {
        await _gate.WaitAsync();
        try
        {
            await ReadNewEventsAsync(roomId);
            return [.. _rooms[roomId]];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<long> LatestPositionAsync(string roomId) => (await ReadAsync(roomId)).Count;

    /// <summary>The user's newest join event at or before room position <paramref name="upTo"/>, or null.</summary>
    public async Task<StoredEvent?> JoinAsync(string roomId, string userId, long upTo)
    {
        var history = await ReadAsync(roomId);
        return history.Take((int)Math.Min(upTo, history.Count))
            .LastOrDefault(e => e.Type == "m.room.member" && e.StateKey == userId && e.Membership == "join");
    }

    private async Task ReadNewEventsAsync(string roomId)
    {
        if (!_rooms.TryGetValue(roomId, out var history)) _rooms[roomId] = history = [];
        while (true)
        {
            var page = await store.Events.GetRoomEventsAsync(roomId, history.Count, Direction.Forward, PageSize, CancellationToken.None);
            foreach (var storedEvent in page)
            {
                if (storedEvent.RoomPosition != history.Count + 1)
                    throw new InvalidOperationException($"{roomId}: position {storedEvent.RoomPosition} follows {history.Count}; room positions must be dense.");
                history.Add(storedEvent);
                _byEventId[storedEvent.EventId] = storedEvent;
            }
            if (page.Count < PageSize) return;
        }
    }
}
