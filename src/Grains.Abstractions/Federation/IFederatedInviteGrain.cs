using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Federation;

/// <summary>
/// Invites of this server's users to one room of another server (key: the room id): received through
/// <c>PUT /_matrix/federation/v2/invite</c> (and v1), and rejected by the invitee through the room's server
/// (<c>make_leave</c>/<c>send_leave</c>). See docs/adr/0038-federated-invites-and-leaves.md.
/// </summary>
[Alias("federated-invite")]
public interface IFederatedInviteGrain : IGrainWithStringKey
{
    /// <summary>
    /// Checks the invite <paramref name="origin"/> sent, signs it and keeps it for the invitee's /sync.
    /// M_INVALID_PARAM / M_BAD_JSON (400) for an invite the spec's checks refuse, M_FORBIDDEN (403) for an unknown user.
    /// </summary>
    /// <param name="body">The request body: v2 <c>{room_version, event, invite_room_state}</c>, v1 the event itself.</param>
    [return: Immutable]
    Task<ReceivedInviteResult> ReceiveAsync(string origin, string eventId, [Immutable] byte[] body, bool v1);

    /// <summary>
    /// The invitee rejects the invite: a leave built on the room server's <c>make_leave</c> template, signed and sent with
    /// <c>send_leave</c>; once accepted, /sync shows the room as left. M_FORBIDDEN without a pending invite.
    /// </summary>
    Task RejectAsync(string userId, string? reason);
}

/// <summary>The answer to an inbound invite.</summary>
/// <param name="RoomVersion">The room version of the request.</param>
/// <param name="SignedEvent">The invite event with this server's signature added (UTF-8 JSON); null when the room
/// version is not one this server supports (400 <c>M_INCOMPATIBLE_ROOM_VERSION</c>).</param>
[GenerateSerializer, Immutable, Alias("hs.ReceivedInviteResult")]
public sealed record ReceivedInviteResult(string RoomVersion, byte[]? SignedEvent);
