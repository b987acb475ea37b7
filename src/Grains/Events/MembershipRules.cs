using System.Text.Json;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>Rule 4 of the authorization rules: <c>m.room.member</c> events.</summary>
internal static class MembershipRules
{
    public static AuthResult Authorize(RoomVersion version, Pdu pdu, Pdu create, IReadOnlyDictionary<StateEventKey, Pdu> state)
    {
        // 4.1
        if (pdu.StateKey is not { } target)
            return AuthResult.Reject("An m.room.member event needs a state key.");
        if (!pdu.Content.TryGetProperty("membership", out _))
            return AuthResult.Reject("An m.room.member event needs content.membership.");
        // Event format rather than an auth rule: the state key of a member event is a user ID.
        if (!UserId.IsValid(target))
            return AuthResult.Reject("The state key of an m.room.member event must be a user ID.");

        // 4.2 (v8+; before, the key means nothing): the event must be signed by the authorising user's server.
        // Signatures are verified where events are received (EventSigning.RequiredSigners names that server for a
        // join) and this server signs what it builds, so here the signature of that server must be present. An
        // authoriser of the sender's own server is covered by the sender's signature every event needs.
        if (version.RestrictedJoinRule && pdu.Content.TryGetProperty("join_authorised_via_users_server", out var authoriser))
        {
            if (authoriser.ValueKind != JsonValueKind.String || !UserId.TryParse(authoriser.GetString(), out var authoriserId))
                return AuthResult.Reject("join_authorised_via_users_server is not a user ID.");
            if (authoriserId.Server != pdu.Sender.Server && !IsSignedBy(pdu, authoriserId.Server.ToString()))
                return AuthResult.Reject($"The join is authorised by a user of {authoriserId.Server} but not signed by that server.");
        }

        var sender = pdu.Sender.Value;
        var membership = pdu.GetContentString("membership");
        return membership switch
        {
            Membership.Join => AuthorizeJoin(version, pdu, create, state, target),
            Membership.Invite => AuthorizeInvite(version, pdu, state, target),
            Membership.Leave => AuthorizeLeave(version, state, sender, target),
            Membership.Ban => AuthorizeBan(version, state, sender, target),
            Membership.Knock when version.KnockJoinRule => AuthorizeKnock(version, state, sender, target),
            _ => AuthResult.Reject($"Unknown membership {pdu.Content.GetProperty("membership").GetRawText()}."), // 4.8
        };
    }

    // 4.3
    private static AuthResult AuthorizeJoin(RoomVersion version, Pdu pdu, Pdu create,
        IReadOnlyDictionary<StateEventKey, Pdu> state, string target)
    {
        if (pdu.PrevEvents.Count == 1 && pdu.PrevEvents[0] == create.EventId.Value && target == RoomCreator.Of(version, create))
            return AuthResult.Allow;
        if (pdu.Sender.Value != target)
            return AuthResult.Reject("Users can only join on their own behalf.");

        var current = state.MembershipOf(target);
        if (current == Membership.Ban)
            return AuthResult.Reject("The user is banned from the room.");

        var joinRule = state.JoinRuleOf();
        var invitedOrJoined = current is Membership.Invite or Membership.Join;
        switch (joinRule)
        {
            case JoinRules.Invite when invitedOrJoined:
            case JoinRules.Knock when invitedOrJoined && version.KnockJoinRule:
                return AuthResult.Allow;
            case JoinRules.Restricted when version.RestrictedJoinRule:
            case JoinRules.KnockRestricted when version.KnockRestrictedJoinRule:
                return invitedOrJoined ? AuthResult.Allow : AuthorizeRestrictedJoin(version, pdu, state, joinRule);
            case JoinRules.Public:
                return AuthResult.Allow;
            default:
                return AuthResult.Reject($"The room's join rule is '{joinRule}' and the user is not invited.");
        }
    }

    // 4.3.5.2: a join vouched for by a member who may invite (the server checked the allow list before).
    private static AuthResult AuthorizeRestrictedJoin(RoomVersion version, Pdu pdu, IReadOnlyDictionary<StateEventKey, Pdu> state, string joinRule)
    {
        if (pdu.GetContentString("join_authorised_via_users_server") is not { } authoriser)
            return AuthResult.Reject($"Joining a '{joinRule}' room without an invite needs join_authorised_via_users_server.");
        if (state.MembershipOf(authoriser) != Membership.Join)
            return AuthResult.Reject("The authorising user is not joined to the room.");
        var powerLevels = PowerLevels.FromState(version, state);
        var authoriserLevel = powerLevels.UserLevel(authoriser);
        return authoriserLevel >= powerLevels.Invite
            ? AuthResult.Allow
            : AuthResult.Reject($"The authorising user needs the invite level {powerLevels.Invite}; they have {authoriserLevel}.");
    }

    private static bool IsSignedBy(Pdu pdu, string server) =>
        pdu.Json.TryGetProperty("signatures", out var signatures) && signatures.ValueKind == JsonValueKind.Object
        && signatures.TryGetProperty(server, out var ofServer) && ofServer.ValueKind == JsonValueKind.Object
        && ofServer.EnumerateObject().Any();

    // 4.4
    private static AuthResult AuthorizeInvite(RoomVersion version, Pdu pdu, IReadOnlyDictionary<StateEventKey, Pdu> state, string target)
    {
        if (pdu.Content.TryGetProperty("third_party_invite", out _))
            return ThirdPartyInviteRules.Authorize(pdu, state, target);
        if (state.MembershipOf(pdu.Sender.Value) != Membership.Join)
            return AuthResult.Reject("Only joined members can invite.");
        var current = state.MembershipOf(target);
        if (current is Membership.Join or Membership.Ban)
            return AuthResult.Reject($"The invited user is already {(current == Membership.Join ? "joined" : "banned")}.");

        var powerLevels = PowerLevels.FromState(version, state);
        var senderLevel = powerLevels.UserLevel(pdu.Sender.Value);
        return senderLevel >= powerLevels.Invite
            ? AuthResult.Allow
            : AuthResult.Reject($"Inviting needs power level {powerLevels.Invite}; the sender has {senderLevel}.");
    }

    // 4.5
    private static AuthResult AuthorizeLeave(RoomVersion version, IReadOnlyDictionary<StateEventKey, Pdu> state, string sender, string target)
    {
        var targetMembership = state.MembershipOf(target);
        if (sender == target)
            return targetMembership is Membership.Invite or Membership.Join or Membership.Knock
                ? AuthResult.Allow
                : AuthResult.Reject($"A user whose membership is '{targetMembership}' cannot leave.");

        if (state.MembershipOf(sender) != Membership.Join)
            return AuthResult.Reject("Only joined members can kick or unban.");

        var powerLevels = PowerLevels.FromState(version, state);
        var senderLevel = powerLevels.UserLevel(sender);
        if (targetMembership == Membership.Ban && senderLevel < powerLevels.Ban)
            return AuthResult.Reject($"Unbanning needs the ban level {powerLevels.Ban}; the sender has {senderLevel}.");
        if (senderLevel < powerLevels.Kick)
            return AuthResult.Reject($"Kicking needs power level {powerLevels.Kick}; the sender has {senderLevel}.");
        return powerLevels.UserLevel(target) < senderLevel
            ? AuthResult.Allow
            : AuthResult.Reject("The sender's power level must be above the target's.");
    }

    // 4.6
    private static AuthResult AuthorizeBan(RoomVersion version, IReadOnlyDictionary<StateEventKey, Pdu> state, string sender, string target)
    {
        if (state.MembershipOf(sender) != Membership.Join)
            return AuthResult.Reject("Only joined members can ban.");
        var powerLevels = PowerLevels.FromState(version, state);
        var senderLevel = powerLevels.UserLevel(sender);
        if (senderLevel < powerLevels.Ban)
            return AuthResult.Reject($"Banning needs power level {powerLevels.Ban}; the sender has {senderLevel}.");
        return powerLevels.UserLevel(target) < senderLevel
            ? AuthResult.Allow
            : AuthResult.Reject("The sender's power level must be above the target's.");
    }

    // 4.7 (v7+)
    private static AuthResult AuthorizeKnock(RoomVersion version, IReadOnlyDictionary<StateEventKey, Pdu> state, string sender, string target)
    {
        var joinRule = state.JoinRuleOf();
        if (!(joinRule == JoinRules.Knock || (joinRule == JoinRules.KnockRestricted && version.KnockRestrictedJoinRule)))
            return AuthResult.Reject($"The room's join rule '{joinRule}' does not allow knocking.");
        if (sender != target)
            return AuthResult.Reject("Users can only knock on their own behalf.");
        var current = state.MembershipOf(sender);
        return current is Membership.Ban or Membership.Invite or Membership.Join
            ? AuthResult.Reject($"A user whose membership is '{current}' cannot knock.")
            : AuthResult.Allow;
    }
}
