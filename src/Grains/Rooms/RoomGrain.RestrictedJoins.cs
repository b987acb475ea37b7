using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Restricted joins of other servers' users through this server (server-server spec, "Restricted rooms"): for a
/// user neither invited nor joined, <c>make_join</c> names a local member who may invite in
/// <c>join_authorised_via_users_server</c> if the user is joined, as this server knows it, to a room of the allow
/// list; <c>send_join</c> checks the same again and signs the join as the authorising server.
/// See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>
    /// The local user to name as authoriser of <paramref name="userId"/>'s join, or null when the room's join rule
    /// does not need one for them (not restricted, or already invited or joined). Refusals follow make_join's
    /// errors: 400 <c>M_UNABLE_TO_AUTHORISE_JOIN</c> when this server is in none of the allowed rooms (it cannot tell),
    /// 403 <c>M_FORBIDDEN</c> when it is in some and the user is joined to none, 400 <c>M_UNABLE_TO_GRANT_JOIN</c>
    /// when the user qualifies but no local member may invite (another resident server may have one).
    /// </summary>
    private async Task<string?> RestrictedJoinAuthoriserForRemoteAsync(RoomSnapshot snapshot, string userId)
    {
        if (!IsRestricted(snapshot) || snapshot.MembershipOf(userId) is Membership.Invite or Membership.Join) return null;

        var allowed = AllowedRoomIds(snapshot.Get(EventTypes.JoinRules)!.Content).Where(id => id != RoomId).ToList();
        var known = false;
        foreach (var allowedRoom in allowed)
        {
            // Only a room with a member of this server joined is followed here; of any other this server's view may be stale.
            var servers = await GrainFactory.GetGrain<IRoomRemoteJoins>(allowedRoom).GetJoinedServersAsync();
            if (!servers.Contains(server.Name)) continue;
            known = true;
            if (await GrainFactory.GetGrain<IRoomGrain>(allowedRoom).IsJoinedAsync(userId)) return LocalAuthoriser(snapshot);
        }
        throw known
            ? MatrixRequestException.Forbidden($"{userId} is not joined to any of the rooms this room's join rule allows.")
            : new MatrixRequestException("M_UNABLE_TO_AUTHORISE_JOIN",
                "This server is in none of the rooms the join rule allows, so it cannot tell whether the user may join.");
    }

    private string LocalAuthoriser(RoomSnapshot snapshot)
    {
        var powerLevels = snapshot.PowerLevels;
        return snapshot.JoinedMembers
                   .Where(member => server.IsLocal(member) && powerLevels.UserLevel(member) >= powerLevels.Invite)
                   .OrderByDescending(powerLevels.UserLevel)
                   .ThenBy(member => member, StringComparer.Ordinal)
                   .FirstOrDefault()
               ?? throw new MatrixRequestException("M_UNABLE_TO_GRANT_JOIN",
                   "No member of this server in the room may invite, so this server cannot authorise the join; try another server.");
    }

    /// <summary>
    /// For a received join naming an authoriser: the authoriser must be a user of this server and the user must still
    /// meet the join rule's conditions here; the join is then signed by this server, whose signature the auth rules
    /// ask for. A join without the key is left as it is (the auth rules judge it).
    /// </summary>
    private async Task AuthoriseReceivedRestrictedJoinAsync(RoomSnapshot snapshot, JsonObject pdu)
    {
        if (!snapshot.Version.RestrictedJoinRule || pdu["content"]?["join_authorised_via_users_server"] is not { } named) return;
        if (named is not JsonValue value || value.GetValueKind() != JsonValueKind.String
            || !UserId.TryParse(value.GetValue<string>(), out var authoriser) || !server.IsLocal(authoriser.ToString()))
            throw MatrixRequestException.InvalidParam("join_authorised_via_users_server must name a user of this server.");
        // Throws when the user does not meet the join rule here; an invited or joined user needs no conditions, but a
        // join naming an authoriser needs the authoriser's server's signature all the same.
        await RestrictedJoinAuthoriserForRemoteAsync(snapshot, pdu["sender"]!.GetValue<string>());
        Federation.Signing.EventSigning.Sign(snapshot.Version, pdu, signingKey.Current);
    }
}
