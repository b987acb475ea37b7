using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The room state as it was after the event at a given position: the current state with every later state event
/// undone, newest first, each slot going back to the event it replaced (unsigned.replaces_state).
/// </summary>
internal static class HistoricalState
{
    private const int PageSize = 500;

    public static async Task<ImmutableDictionary<StateEventKey, Pdu>> AtAsync(
        IHomeServerStore store, RoomSnapshot current, long position, CancellationToken cancellationToken)
    {
        if (position >= current.LastPosition) return current.State;
        var state = current.State.ToBuilder();
        var cursor = current.LastPosition + 1;
        while (cursor > position + 1)
        {
            var page = await store.Events.GetRoomEventsAsync(current.RoomId, cursor, Direction.Backward, PageSize, cancellationToken);
            if (page.Count == 0) break;
            foreach (var e in page)
            {
                cursor = e.RoomPosition;
                if (cursor <= position) return state.ToImmutable();
                if (e.StateKey is null) continue;
                var key = new StateEventKey(e.Type, e.StateKey);
                var replaced = StoredEventJson.ReplacesState(Pdu.Parse(EventId.Parse(e.EventId), e.Json).Json);
                var previous = replaced is null ? null : await store.Events.GetEventAsync(replaced, cancellationToken);
                if (previous is null) state.Remove(key);
                else state[key] = Pdu.Parse(EventId.Parse(previous.EventId), previous.Json);
            }
        }
        return state.ToImmutable();
    }
}
