using HomeServer.Grains.Sync;
using HomeServer.Storage;

namespace HomeServer.Grains.Keys;

/// <summary>
/// Whose device lists a client must refresh or may stop tracking between two /sync tokens, as Synapse computes it for
/// /sync and /keys/changes. <c>changed</c>: users sharing a joined room with the user whose devices or cross-signing
/// keys changed between the tokens' device-list positions (the user itself included), and users who came to share a
/// room with it through the membership changes between the tokens' event positions (its own joins bring every member
/// of the room; another user's join brings that user). <c>left</c>: users who left one of the user's rooms, or every
/// member of a room the user left, who now share no joined room with it. Every read is indexed by user or room.
/// </summary>
internal static class DeviceListDelta
{
    public static async Task<(IReadOnlyList<string> Changed, IReadOnlyList<string> Left)> BetweenAsync(
        IHomeServerStore store, string userId, SyncToken since, SyncToken until, CancellationToken cancellationToken)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in await store.Keys.GetDeviceListChangesAsync(userId, since.DeviceLists, until.DeviceLists, cancellationToken))
            changed.Add(change.UserId);

        var joinedRooms = new HashSet<string>(StringComparer.Ordinal);
        var leftRooms = new HashSet<string>(StringComparer.Ordinal);
        var newlyShared = new HashSet<string>(StringComparer.Ordinal);
        var possiblyLeft = new HashSet<string>(StringComparer.Ordinal);
        foreach (var membership in await store.Keys.GetMembershipChangesAsync(userId, since.Events, until.Events, cancellationToken))
        {
            var joined = membership.Membership == "join";
            var gone = membership.Membership is "leave" or "ban";
            if (membership.UserId == userId)
            {
                if (joined) joinedRooms.Add(membership.RoomId);
                else if (gone) leftRooms.Add(membership.RoomId);
            }
            else if (joined) newlyShared.Add(membership.UserId);
            else if (gone) possiblyLeft.Add(membership.UserId);
        }
        if (joinedRooms.Count > 0) newlyShared.UnionWith(await store.Keys.GetJoinedMembersAsync(joinedRooms, cancellationToken));
        if (leftRooms.Count > 0) possiblyLeft.UnionWith(await store.Keys.GetJoinedMembersAsync(leftRooms, cancellationToken));
        newlyShared.Remove(userId);
        possiblyLeft.Remove(userId);

        var candidates = newlyShared.Union(possiblyLeft).ToList();
        var sharing = candidates.Count == 0
            ? new HashSet<string>(StringComparer.Ordinal)
            : new HashSet<string>(await store.Keys.GetUsersSharingARoomAsync(userId, candidates, cancellationToken), StringComparer.Ordinal);
        changed.UnionWith(newlyShared.Where(sharing.Contains));
        var left = possiblyLeft.Where(u => !sharing.Contains(u)).Order(StringComparer.Ordinal).ToList();
        changed.ExceptWith(left);
        return (changed.Order(StringComparer.Ordinal).ToList(), left);
    }
}
