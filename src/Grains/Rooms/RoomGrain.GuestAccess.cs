using HomeServer.Grains.Events;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    private async Task<bool> IsGuestAsync(string userId) =>
        GuestAccess.MayBeGuest(userId, server)
        && (await store.Accounts.GetAccountAsync(userId, CancellationToken.None))?.IsGuest == true;

    /// <summary>The spec: guests may join only while <c>m.room.guest_access</c> is <c>can_join</c>.</summary>
    private static void RequireGuestsMayJoin(RoomSnapshot room)
    {
        if (!GuestAccess.GuestsMayJoin(room)) throw MatrixRequestException.Forbidden("Guest access is not allowed in this room.");
    }

    /// <summary>
    /// The spec: when <c>m.room.guest_access</c> changes so that guests may no longer join, the server sets the
    /// membership of the guests in the room to leave. As Synapse does, each guest leaves by itself (sender and
    /// target are the guest), after the change is durable. A silo lost before that leaves them joined.
    /// </summary>
    private void KickGuestsIfAccessRevoked(CommittedBatch batch)
    {
        var changed = batch.Events.Any(e => e.Event.Row.Type == GuestAccess.EventType && e.Event.Row.StateKey == "");
        if (!changed || GuestAccess.GuestsMayJoin(batch.After)) return;
        var candidates = batch.After.JoinedMembers.Where(userId => GuestAccess.MayBeGuest(userId, server)).ToList();
        if (candidates.Count > 0) _ = KickGuestsAsync(candidates);
    }

    private async Task KickGuestsAsync(IReadOnlyList<string> candidates)
    {
        try
        {
            foreach (var userId in candidates)
            {
                if (!await IsGuestAsync(userId)) continue;
                await _writer.SubmitAsync(builder =>
                {
                    if (!builder.View.IsJoined(userId) || GuestAccess.GuestsMayJoin(builder.View)) return null;
                    builder.Add(EventSpec.Member(userId, userId, MembershipContent(Membership.Leave, reason: null)));
                    return null;
                });
            }
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not remove the guests of room {RoomId} after guest access was revoked", RoomId);
        }
    }
}
