using System.Text.Json;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>
/// The authorization rules of room versions 1 to 11, checked against the room state before the
/// event. Rule numbers in comments refer to the spec's list for v10/v11; where an older version
/// differs, the <see cref="RoomVersion"/> switch says so.
/// </summary>
/// <remarks>
/// Rules 2.1-2.3 judge the <c>auth_events</c> a remote server chose; here the caller supplies the state
/// itself (and <see cref="AuthEventSelector"/> derives auth events from it), so they do not apply.
/// Signatures are verified where events are received, not here. A join authorised by a user of another server
/// must carry that server's signature (verified on receipt); an invite from a third-party invite carries the identity
/// server's signature over its <c>signed</c> object, which <see cref="ThirdPartyInviteRules"/> checks here.
/// </remarks>
public static class EventAuthorizer
{
    public static AuthResult Authorize(RoomVersion version, Pdu pdu, IReadOnlyDictionary<StateEventKey, Pdu> state)
    {
        // 1
        if (pdu.Type == EventTypes.Create)
            return AuthorizeCreate(version, pdu);

        // 2.4
        if (state.Get(StateEventKey.Create) is not { } create)
            return AuthResult.Reject("The room has no m.room.create event.");

        // 3
        if (create.Content.TryGetProperty("m.federate", out var federate)
            && federate.ValueKind == JsonValueKind.False
            && pdu.Sender.Server != create.Sender.Server)
            return AuthResult.Reject("The room is not federated and the sender is from another server.");

        // v1-v5 only: m.room.aliases is the sending server's own business.
        if (pdu.Type == EventTypes.Aliases && version.SpecialCasesAliases)
        {
            if (pdu.StateKey is not { } aliasesServer)
                return AuthResult.Reject("An m.room.aliases event needs a state key.");
            return aliasesServer == pdu.Sender.Server.Value
                ? AuthResult.Allow
                : AuthResult.Reject("The state key of m.room.aliases must be the sender's server.");
        }

        // 4
        if (pdu.Type == EventTypes.Member)
            return MembershipRules.Authorize(version, pdu, create, state);

        // 5
        if (state.MembershipOf(pdu.Sender.Value) != Membership.Join)
            return AuthResult.Reject("The sender is not joined to the room.");

        var powerLevels = PowerLevels.FromState(version, state);
        var senderLevel = powerLevels.UserLevel(pdu.Sender.Value);

        // 6
        if (pdu.Type == EventTypes.ThirdPartyInvite)
            return senderLevel >= powerLevels.Invite
                ? AuthResult.Allow
                : AuthResult.Reject($"Sending {EventTypes.ThirdPartyInvite} needs the invite level {powerLevels.Invite}; the sender has {senderLevel}.");

        // 7
        var required = powerLevels.RequiredLevel(pdu.Type, pdu.IsState);
        if (required > senderLevel)
            return AuthResult.Reject($"Sending {pdu.Type} needs power level {required}; the sender has {senderLevel}.");

        // 8
        if (pdu.StateKey is { } stateKey && stateKey.StartsWith('@') && stateKey != pdu.Sender.Value)
            return AuthResult.Reject("A state key starting with '@' must be the sender's own user ID.");

        // 9
        if (pdu.Type == EventTypes.PowerLevels)
            return PowerLevelsRules.Authorize(version, pdu, state.Get(StateEventKey.PowerLevels), senderLevel);

        // v1, v2 only: redactions are part of the auth rules. The sender needs the redact level, or the redacted
        // event must come from the redaction's own server (judged by the server names in the opaque event IDs).
        // From v3 on this check moved to the handling of redactions (RedactionAuthorizer).
        if (pdu.Type == EventTypes.Redaction && version.EventIdInEvent && senderLevel < powerLevels.Redact)
        {
            var redacts = RedactionAuthorizer.GetRedactedEventId(version, pdu)?.Value;
            if (redacts is null || ServerOf(redacts) != ServerOf(pdu.EventId.Value))
                return AuthResult.Reject($"Redacting an event of another server needs power level {powerLevels.Redact}; the sender has {senderLevel}.");
        }

        // 10
        return AuthResult.Allow;
    }

    private static string? ServerOf(string opaqueEventId) =>
        opaqueEventId.IndexOf(':') is var colon and > 0 ? opaqueEventId[(colon + 1)..] : null;

    private static AuthResult AuthorizeCreate(RoomVersion version, Pdu pdu)
    {
        // 1.1
        if (pdu.PrevEvents.Count > 0)
            return AuthResult.Reject("An m.room.create event must not have previous events.");
        // 1.2
        if (pdu.RoomId.Server != pdu.Sender.Server)
            return AuthResult.Reject("The room ID's server must be the sender's server.");
        // 1.3
        if (pdu.Content.TryGetProperty("room_version", out var roomVersion))
        {
            if (roomVersion.ValueKind != JsonValueKind.String || !RoomVersion.TryGet(roomVersion.GetString(), out var declared))
                return AuthResult.Reject($"Unsupported room version {roomVersion.GetRawText()}.");
            // Not a spec rule: the caller chose `version` from this very content, so a mismatch is a bug.
            if (declared != version)
                return AuthResult.Reject($"The create event declares room version {declared}, but is checked as {version}.");
        }
        // 1.4 (v1-v10)
        if (!version.CreatorIsSender && !pdu.Content.TryGetProperty("creator", out _))
            return AuthResult.Reject("In this room version the create event must name its creator.");
        return AuthResult.Allow;
    }
}
