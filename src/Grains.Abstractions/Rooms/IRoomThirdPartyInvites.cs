using System.Text.Json;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The room grain (key: the room id) for invites by third-party identifier: the inviter's side (look the address up
/// at the identity server; invite the bound user, or store the invite there and send <c>m.room.third_party_invite</c>)
/// and the invitee's side (turning the identity server's signed proof into an invite). See
/// docs/adr/0046-third-party-invites.md.
/// </summary>
[Alias("room-third-party-invites")]
public interface IRoomThirdPartyInvites : IGrainWithStringKey
{
    /// <summary><c>POST /rooms/{roomId}/invite</c> with <c>id_server</c>, <c>id_access_token</c>, <c>medium</c> and <c>address</c>.</summary>
    [AlwaysInterleave]
    Task InviteByThirdPartyIdAsync(ThirdPartyIdInvite request);

    /// <summary>
    /// Turns a pending third-party invite into an invite of <see cref="ThirdPartyInviteExchange.TargetUserId"/>: here
    /// when this server has the room, else through <c>exchange_third_party_invite</c> at the room's servers.
    /// </summary>
    [AlwaysInterleave]
    Task AcceptThirdPartyInviteAsync(ThirdPartyInviteExchange exchange);

    /// <summary>
    /// <c>PUT /_matrix/federation/v1/exchange_third_party_invite/{roomId}</c> from <paramref name="origin"/>: the room
    /// must be here; the invite is built, checked by the auth rules, signed, sent to the invitee's server and appended.
    /// </summary>
    [AlwaysInterleave]
    Task ExchangeForServerAsync(string origin, ThirdPartyInviteExchange exchange);
}

/// <param name="Reason">The invite's reason, used when the address is bound and an ordinary invite results.</param>
[GenerateSerializer, Immutable, Alias("hs.ThirdPartyIdInvite")]
public sealed record ThirdPartyIdInvite(string SenderUserId, string IdServer, string IdAccessToken, string Medium, string Address, string? Reason);

/// <param name="SenderUserId">The sender of the <c>m.room.third_party_invite</c>, who becomes the invite's sender.</param>
/// <param name="Signed">The identity server's signed object: <c>mxid</c>, <c>token</c> and <c>signatures</c>.</param>
[GenerateSerializer, Immutable, Alias("hs.ThirdPartyInviteExchange")]
public sealed record ThirdPartyInviteExchange(string SenderUserId, string TargetUserId, JsonElement Signed);
