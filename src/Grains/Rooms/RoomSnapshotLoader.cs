using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

internal static class RoomSnapshotLoader
{
    /// <summary>
    /// The room's current version from the store and the global position of its newest event (0 before the first);
    /// null when there is no such room.
    /// </summary>
    public static async Task<(RoomSnapshot Snapshot, long LastGlobalPosition)?> LoadAsync(
        IHomeServerStore store, string roomId, CancellationToken cancellationToken)
    {
        var room = await store.Rooms.GetRoomAsync(roomId, cancellationToken);
        if (room is null) return null;
        if (!RoomVersion.TryGet(room.RoomVersion, out var version))
            throw new InvalidOperationException($"Room {roomId} has unsupported version {room.RoomVersion}.");

        // The newest event first: if a writer appends meanwhile, the state read next is newer than this position and
        // the next append, fenced on this position, fails and reloads.
        var latest = await store.Events.GetLatestEventsAsync(roomId, 1, cancellationToken);
        if (latest.Count == 0) return (RoomSnapshot.Empty(roomId, version), 0);
        var last = latest[0];
        var lastPdu = Pdu.Parse(EventId.Parse(last.EventId), last.Json);

        var state = ImmutableDictionary.CreateBuilder<StateEventKey, Pdu>();
        foreach (var stored in await store.State.GetCurrentStateAsync(roomId, cancellationToken))
        {
            state[new StateEventKey(stored.Type, stored.StateKey!)] = Pdu.Parse(EventId.Parse(stored.EventId), stored.Json);
        }
        var depth = lastPdu.Json.GetProperty("depth").GetInt64();
        var extremities = await LoadExtremitiesAsync(store, roomId, cancellationToken);
        var snapshot = new RoomSnapshot(roomId, version, state.ToImmutable(), last.RoomPosition, lastPdu.EventId,
            extremities.IsEmpty ? depth : Math.Max(depth, extremities.Max(e => e.Depth)))
        {
            LastEventContentHash = lastPdu.ContentHash,
            Extremities = extremities,
        };
        return (snapshot, last.GlobalPosition);
    }

    /// <summary>The extremities of a forked room (none stored: the room is linear), each with its depth and content hash.</summary>
    private static async Task<ImmutableList<Forks.ForwardExtremity>> LoadExtremitiesAsync(
        IHomeServerStore store, string roomId, CancellationToken cancellationToken)
    {
        var rows = await store.Forks.GetForwardExtremitiesAsync(roomId, cancellationToken);
        if (rows.Count == 0) return [];
        var extremities = ImmutableList.CreateBuilder<Forks.ForwardExtremity>();
        foreach (var row in rows)
        {
            var stored = await store.Events.GetEventAsync(row.EventId, cancellationToken)
                         ?? throw new InvalidOperationException($"Forward extremity {row.EventId} of {roomId} is not stored.");
            extremities.Add(Forks.ForwardExtremity.Of(Pdu.Parse(EventId.Parse(stored.EventId), stored.Json),
                Forks.ForwardExtremity.DeserializeState(row.StateAfter)));
        }
        return extremities.ToImmutable();
    }
}
