using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The room state as it was after the event at a given position: the current state with every later state event
/// undone, newest first, each slot going back to the event it replaced (unsigned.replaces_state), or for an event
/// appended outside the current state, the slots its arrival changed going back to their events before.
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
                var json = Pdu.Parse(EventId.Parse(e.EventId), e.Json).Json;
                if (StoredEventJson.ReplacedCurrent(json) is { } replacedCurrent)
                {
                    // Appended outside the current state (docs/adr/0041): it changed exactly these slots, if any.
                    foreach (var (slot, previousId) in replacedCurrent) await UndoAsync(state, slot, previousId);
                    continue;
                }
                if (e.StateKey is null) continue;
                await UndoAsync(state, new StateEventKey(e.Type, e.StateKey), StoredEventJson.ReplacesState(json));
            }
        }
        return state.ToImmutable();

        async Task UndoAsync(ImmutableDictionary<StateEventKey, Pdu>.Builder undone, StateEventKey slot, string? previousId)
        {
            var previous = previousId is null ? null : await store.Events.GetEventAsync(previousId, cancellationToken);
            if (previous is null) undone.Remove(slot);
            else undone[slot] = Pdu.Parse(EventId.Parse(previous.EventId), previous.Json);
        }
    }
}
