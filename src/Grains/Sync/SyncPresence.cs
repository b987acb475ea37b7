using HomeServer.Grains.Events;
using HomeServer.Grains.Presence;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// The presence section of one response built from the store: the presence changes after the since token (up to the
/// position the response's token names) of the user and of every user sharing a joined room with it; on an initial
/// sync everyone's current presence except those offline (as Synapse). Besides, when the response brings a join —
/// the user's own into a room, or another user's into one of the user's rooms — the current presence of those who
/// now share the room comes with it, whatever its position, since the client could not have been told before.
/// </summary>
internal static class SyncPresence
{
    public const string EventType = "m.presence";

    public static async Task AddAsync(
        IHomeServerStore store, string userId, SyncToken? since, long upTo, SyncFilter filter, SyncResult result, CancellationToken cancellationToken)
    {
        if (!filter.Presence.Matches(EventType, null)) return;
        var changes = await store.Presence.GetPeerPresenceChangesAsync(userId, since?.Presence ?? 0, upTo, cancellationToken);
        var byUser = new Dictionary<string, StoredPresence>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            if (since is null && change.Presence == PresenceStates.Offline) continue;
            byUser[change.UserId] = change;
        }
        if (since is not null)
        {
            var (newRooms, newMembers) = JoinsIn(result, userId);
            var joined = new List<StoredPresence>();
            if (newRooms.Count > 0) joined.AddRange(await store.Presence.GetPresenceOfRoomMembersAsync(newRooms, cancellationToken));
            if (newMembers.Count > 0) joined.AddRange(await store.Presence.GetPresenceAsync(newMembers, cancellationToken));
            foreach (var presence in joined)
            {
                if (presence.Presence == PresenceStates.Offline || byUser.ContainsKey(presence.UserId)) continue;
                byUser[presence.UserId] = presence;
            }
        }
        var section = byUser.Values
            .Where(p => filter.Presence.Matches(EventType, p.UserId))
            .OrderBy(p => p.StreamPosition)
            .ToList();
        // A limit keeps the most recent changes.
        if (filter.Presence.Limit is { } limit && section.Count > limit) section = section[^limit..];
        result.Presence.AddRange(section);
    }

    /// <summary>
    /// The rooms the user newly joined in this response and the other users who newly joined one of its rooms, from
    /// the member events of its joined rooms (a join whose previous membership was already join is a profile change).
    /// </summary>
    private static (List<string> Rooms, List<string> Users) JoinsIn(SyncResult result, string userId)
    {
        var rooms = new List<string>();
        var users = new HashSet<string>(StringComparer.Ordinal);
        foreach (var room in result.Joined)
        {
            var events = (room.Timeline?.Events ?? []).Concat(room.State);
            foreach (var memberEvent in events)
            {
                if (memberEvent.Type != EventTypes.Member || memberEvent.Membership != "join" || memberEvent.StateKey is null) continue;
                if (StoredEventFacts.PreviousMembership(memberEvent) == "join") continue;
                if (memberEvent.StateKey == userId)
                {
                    if (!rooms.Contains(room.RoomId)) rooms.Add(room.RoomId);
                }
                else
                {
                    users.Add(memberEvent.StateKey);
                }
            }
        }
        return (rooms, users.ToList());
    }
}
