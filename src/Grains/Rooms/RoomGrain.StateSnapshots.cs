namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    private readonly StateSnapshotCache _stateSnapshots = new(store, naive: delivery?.IsNaive ?? false);

    /// <summary>The pre-serialised state after the event at <paramref name="position"/>, or the current state for a later position.</summary>
    private async Task<StateSnapshot> StateSnapshotAfterAsync(RoomSnapshot room, long position) =>
        await _stateSnapshots.AfterAsync(room, await GetHistoryAsync(room), Math.Min(position, room.LastPosition));

    public async Task<SyncStateSection?> GetSyncStateAsync(SyncStateQuery query)
    {
        // Naive mode measures what the cache saves: each sync computes its state sections from the store.
        if (_delivery.IsNaive) return null;
        // A timeline read from the store a moment before this activation published its newest events.
        if (_writer.Current is not { Exists: true } room || query.TimelineEnd > room.LastPosition) return null;
        var atStart = await StateSnapshotAfterAsync(room, query.TimelineStart - 1);
        var current = await StateSnapshotAfterAsync(room, room.LastPosition);
        var heroes = current.HeroesFor(query.UserId);
        var events = query.Members is null ? atStart.SyncEvents : atStart.WithMembersOf(query.Members.Concat(heroes ?? []));
        return new SyncStateSection(atStart.Version.ToString(), events, heroes, current.JoinedMemberCount, current.InvitedMemberCount)
        {
            SharedEventsJson = query.Members is null ? atStart.SyncEventsJson : null,
        };
    }
}
