using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// For a filter's <c>event_format: federation</c>: state that came pre-serialised from a room's snapshot holds client
/// events only, so its events are read again as stored (the room's current state in one read, any older event by id).
/// Only filters that ask for the federation format pay this.
/// </summary>
internal static class FederationFormatState
{
    public static async Task ReadStoredEventsAsync(IHomeServerStore store, SyncResult result, CancellationToken cancellationToken)
    {
        foreach (var room in result.Joined)
        {
            if (!room.StateIsPreSerialised) continue;
            var current = (await store.State.GetCurrentStateAsync(room.RoomId, cancellationToken))
                .ToDictionary(e => e.EventId, StringComparer.Ordinal);
            var stored = new List<StoredEvent>(room.State.Count);
            foreach (var stateEvent in room.State)
            {
                if (current.TryGetValue(stateEvent.EventId, out var full)) stored.Add(full);
                else if (await store.Events.GetEventAsync(stateEvent.EventId, cancellationToken) is { } older) stored.Add(older);
            }
            room.State.Clear();
            room.State.AddRange(stored);
            room.StateIsPreSerialised = false;
            room.SharedStateJson = null;
        }
    }
}
