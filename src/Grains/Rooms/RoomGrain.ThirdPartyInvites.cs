using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.ThirdPartyInvites;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Invites by third-party identifier (client-server "Third-party invites", server-server "Third-party invites"): the
/// inviter's side asks the identity server; the invitee's side turns the identity server's signed proof into an
/// invite the auth rules check (<see cref="ThirdPartyInviteRules"/>). See docs/adr/0046-third-party-invites.md.
/// </summary>
public sealed partial class RoomGrain : IRoomThirdPartyInvites
{
    public async Task InviteByThirdPartyIdAsync(ThirdPartyIdInvite request)
    {
        RequireJoined(request.SenderUserId);
        var identity = ServiceProvider.GetRequiredService<IdentityServerClient>();
        var bound = await identity.LookupAsync(request.IdServer, request.IdAccessToken, request.Medium, request.Address, CancellationToken.None);
        if (bound is not null)
        {
            if (!UserId.IsValid(bound)) throw RemoteServerFailure.Of($"The identity server {request.IdServer} answered the lookup with '{bound}', not a user ID.");
            await InviteAsync(new MembershipRequest(request.SenderUserId, bound, request.Reason));
            return;
        }

        // Checked before the identity server stores anything (and emails the address); the auth rules check it again.
        var snapshot = RequireJoined(request.SenderUserId);
        var powerLevels = snapshot.PowerLevels;
        if (powerLevels.UserLevel(request.SenderUserId) < powerLevels.Invite)
            throw MatrixRequestException.Forbidden($"Inviting needs power level {powerLevels.Invite}.");
        var stored = await identity.StoreInviteAsync(request.IdServer, request.IdAccessToken, request.Medium, request.Address,
            InviteDetailsOf(snapshot, request.SenderUserId), CancellationToken.None);

        var content = new JsonObject
        {
            ["display_name"] = stored.DisplayName,
            ["key_validity_url"] = stored.PublicKeys[0].KeyValidityUrl,
            ["public_key"] = stored.PublicKeys[0].PublicKey,
            ["public_keys"] = new JsonArray(stored.PublicKeys
                .Select(key => (JsonNode)new JsonObject { ["public_key"] = key.PublicKey, ["key_validity_url"] = key.KeyValidityUrl })
                .ToArray()),
        };
        await _writer.SubmitAsync(builder =>
            builder.Add(EventSpec.State(EventTypes.ThirdPartyInvite, stored.Token, request.SenderUserId, content)).EventId.Value);
    }

    /// <summary>What the identity server's invitation email may tell of the room and the inviter.</summary>
    private InviteRoomDetails InviteDetailsOf(RoomSnapshot snapshot, string sender)
    {
        var member = snapshot.Get(EventTypes.Member, sender);
        return new InviteRoomDetails(RoomId, sender,
            SenderDisplayName: member?.GetContentString("displayname"),
            SenderAvatarUrl: member?.GetContentString("avatar_url"),
            RoomName: snapshot.ContentString("m.room.name", "name"),
            RoomAlias: snapshot.ContentString(CanonicalAliasType, "alias"),
            RoomAvatarUrl: snapshot.ContentString("m.room.avatar", "url"),
            RoomJoinRules: snapshot.ContentString(EventTypes.JoinRules, "join_rule"),
            RoomType: snapshot.ContentString(EventTypes.Create, "type"));
    }

    public async Task AcceptThirdPartyInviteAsync(ThirdPartyInviteExchange exchange)
    {
        if (_writer.Current is { Exists: true })
        {
            await InviteFromThirdPartyInviteAsync(exchange);
            return;
        }
        await ExchangeThroughResidentServersAsync(exchange);
    }

    public Task ExchangeForServerAsync(string origin, ThirdPartyInviteExchange exchange)
    {
        RequireAllowedByAcl(origin);
        return InviteFromThirdPartyInviteAsync(exchange);
    }

    /// <summary>
    /// Builds the invite from the pending <c>m.room.third_party_invite</c> named by <c>signed.token</c>, after checking
    /// (as the auth rules will) that the identity server signed it and asking it whether the signing key is still valid.
    /// </summary>
    private async Task InviteFromThirdPartyInviteAsync(ThirdPartyInviteExchange exchange)
    {
        var snapshot = RequireRoom();
        RequireUserId(exchange.TargetUserId);
        var signed = exchange.Signed;
        if (signed.ValueKind != JsonValueKind.Object
            || !signed.TryGetProperty("mxid", out var mxid) || mxid.ValueKind != JsonValueKind.String
            || !signed.TryGetProperty("token", out var token) || token.ValueKind != JsonValueKind.String)
            throw MatrixRequestException.BadJson("signed needs mxid and token.");
        if (mxid.GetString() != exchange.TargetUserId)
            throw MatrixRequestException.Forbidden("The signed mxid is not the invited user.");
        if (snapshot.Get(EventTypes.ThirdPartyInvite, token.GetString()!) is not { } pending)
            throw MatrixRequestException.Forbidden("The room has no pending third-party invite with this token.");
        if (pending.Sender.Value != exchange.SenderUserId)
            throw MatrixRequestException.Forbidden("The third-party invite was sent by someone else.");
        await RequireValidSigningKeyAsync(signed, pending.Content);

        var current = snapshot.MembershipOf(exchange.TargetUserId);
        if (current is Membership.Join or Membership.Invite) return;
        var content = new JsonObject
        {
            ["membership"] = Membership.Invite,
            ["third_party_invite"] = new JsonObject
            {
                ["display_name"] = pending.GetContentString("display_name") ?? "",
                ["signed"] = JsonNode.Parse(signed.GetRawText()),
            },
        };
        if (!server.IsLocal(exchange.TargetUserId))
        {
            await InviteRemoteUserAsync(new MembershipRequest(exchange.SenderUserId, exchange.TargetUserId, null),
                UserId.Parse(exchange.TargetUserId), content);
            return;
        }
        await AddProfileAsync(exchange.TargetUserId, content);
        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.MembershipOf(exchange.TargetUserId) is Membership.Join or Membership.Invite) return null;
            builder.Add(EventSpec.Member(exchange.TargetUserId, exchange.SenderUserId, content));
            return null;
        });
    }

    /// <summary>As other servers do: a key that signed the proof counts only while its identity server says it is valid.</summary>
    private async Task RequireValidSigningKeyAsync(JsonElement signed, JsonElement thirdPartyInviteContent)
    {
        var keys = ThirdPartyInviteRules.KeysSigning(signed, thirdPartyInviteContent).ToList();
        if (keys.Count == 0)
            throw MatrixRequestException.Forbidden("No signature of the third-party invite verifies with the keys of the room's m.room.third_party_invite.");
        var identity = ServiceProvider.GetRequiredService<IdentityServerClient>();
        foreach (var key in keys)
        {
            if (key.KeyValidityUrl is null) continue;
            if (await identity.IsKeyValidAsync(key.KeyValidityUrl, key.Text, CancellationToken.None)) return;
        }
        throw MatrixRequestException.Forbidden("The identity server no longer vouches for the key that signed the third-party invite.");
    }

    /// <summary>
    /// A room this server is not in: its servers (the room id's and the inviter's) build the invite, asked through
    /// <c>exchange_third_party_invite</c>; the invite then reaches this server as any invite of another server does.
    /// </summary>
    private async Task ExchangeThroughResidentServersAsync(ThirdPartyInviteExchange exchange)
    {
        var servers = new[] { Identifiers.RoomId.TryParse(RoomId, out var room) ? room.Server.ToString() : null, UserIdServer(exchange.SenderUserId) }
            .OfType<string>().Where(name => name != server.Name).Distinct().ToList();
        if (servers.Count == 0) throw MatrixRequestException.NotFound("Unknown room.");
        var body = new JsonObject
        {
            ["type"] = EventTypes.Member,
            ["room_id"] = RoomId,
            ["sender"] = exchange.SenderUserId,
            ["state_key"] = exchange.TargetUserId,
            ["content"] = new JsonObject
            {
                ["membership"] = Membership.Invite,
                ["third_party_invite"] = new JsonObject { ["signed"] = JsonNode.Parse(exchange.Signed.GetRawText()) },
            },
        };
        var client = ServiceProvider.GetRequiredService<FederationClient>();
        MatrixRequestException? refusal = null;
        foreach (var destination in servers)
        {
            try
            {
                var response = await client.SendAsync(destination, HttpMethod.Put,
                    $"/_matrix/federation/v1/exchange_third_party_invite/{Uri.EscapeDataString(RoomId)}", body, CancellationToken.None);
                if (response.IsSuccess) return;
                refusal = RefusalOf(destination, response);
            }
            catch (FederationRequestException e)
            {
                logger.LogWarning(e, "Exchanging a third-party invite to {RoomId} through {Destination} failed", RoomId, destination);
            }
        }
        throw refusal ?? RemoteServerFailure.Of($"No server of {RoomId} could be reached to exchange the third-party invite.");
    }

    private static MatrixRequestException RefusalOf(string destination, FederationResponse response)
    {
        try
        {
            if (JsonNode.Parse(response.Body) is JsonObject error && (int)response.StatusCode is >= 400 and < 500
                && error["errcode"] is JsonValue code && code.TryGetValue<string>(out var errcode))
                return new MatrixRequestException(errcode, $"{destination} refused the third-party invite: {error["error"]}");
        }
        catch (JsonException)
        {
        }
        return RemoteServerFailure.Of($"{destination} answered the third-party invite exchange with {(int)response.StatusCode}.");
    }

    private static string? UserIdServer(string userId) => UserId.TryParse(userId, out var user) ? user.Server.ToString() : null;
}
