using System.Text.Json;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The server-server "Third-party invites": <c>PUT /v1/3pid/onbind</c>, which an identity server calls without
/// authentication once an address with pending invites is bound to a user of this server, and the signed
/// <c>PUT /v1/exchange_third_party_invite/{roomId}</c> another server sends for a room of this one. Either way the
/// identity server's signature over <c>signed</c> is what vouches for the invite (docs/adr/0046-third-party-invites.md).
/// </summary>
internal static class FederationThirdPartyInviteEndpoints
{
    public static void MapFederationThirdPartyInviteEndpoints(this IEndpointRouteBuilder endpoints, RouteGroupBuilder authenticated)
    {
        endpoints.MapPut("/_matrix/federation/v1/3pid/onbind", OnBindAsync).WithBodySize(BodySize.Small);
        authenticated.MapPut("/v1/exchange_third_party_invite/{roomId}", ExchangeAsync);
    }

    private static async Task<IResult> OnBindAsync(HttpContext context, IGrainFactory grains, LocalServer server)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var body = await RoomBodies.ReadEventContentAsync(context.Request);
        RequireString(body, "medium");
        RequireString(body, "address");
        var mxid = RequireString(body, "mxid");
        if (!Grains.Identifiers.UserId.IsValid(mxid)) throw RoomPath.InvalidParam($"'{mxid}' is not a user ID.");
        if (!server.IsLocal(mxid)) throw new MatrixException(StatusCodes.Status400BadRequest, "M_INVALID_PARAM", $"{mxid} is not a user of this server.");
        if (!body.TryGetProperty("invites", out var invites)) throw RoomPath.MissingParam("invites is required.");
        if (invites.ValueKind != JsonValueKind.Array) throw MatrixException.BadJson("invites must be an array.");

        // Each invite on its own: one that cannot be exchanged (revoked, room gone) does not hold back the others.
        foreach (var invite in invites.EnumerateArray())
        {
            if (invite.ValueKind != JsonValueKind.Object
                || StringOf(invite, "room_id") is not { } roomId || !Grains.Identifiers.RoomId.IsValid(roomId)
                || StringOf(invite, "sender") is not { } sender || !Grains.Identifiers.UserId.IsValid(sender)
                || StringOf(invite, "mxid") != mxid
                || !invite.TryGetProperty("signed", out var signed) || signed.ValueKind != JsonValueKind.Object)
                continue;
            try
            {
                await grains.GetGrain<IRoomThirdPartyInvites>(roomId).AcceptThirdPartyInviteAsync(new ThirdPartyInviteExchange(sender, mxid, signed.Clone()));
            }
            catch (MatrixRequestException)
            {
                // Refused or unreachable: the invitee can still be invited by user ID. The refusal is the room's to log.
            }
        }
        return RoomResults.Empty();
    }

    private static async Task<IResult> ExchangeAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        roomId = FederationRoomEndpoints.RoomIdOf(roomId);
        JsonElement body;
        try
        {
            using var document = JsonDocument.Parse(context.FederationBody());
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw MatrixException.NotJson("The body is not JSON.");
        }
        if (body.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("The body must be a JSON object.");
        if (RequireString(body, "type") != "m.room.member") throw MatrixException.BadJson("type must be m.room.member.");
        if (RequireString(body, "room_id") != roomId) throw MatrixException.BadJson("room_id is not the room of the path.");
        var sender = RequireString(body, "sender");
        var target = RequireString(body, "state_key");
        if (!Grains.Identifiers.UserId.IsValid(sender) || !Grains.Identifiers.UserId.IsValid(target))
            throw RoomPath.InvalidParam("sender and state_key must be user IDs.");
        if (!body.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object)
            throw RoomPath.MissingParam("content is required.");
        if (StringOf(content, "membership") != "invite") throw MatrixException.BadJson("content.membership must be invite.");
        if (!content.TryGetProperty("third_party_invite", out var thirdPartyInvite) || thirdPartyInvite.ValueKind != JsonValueKind.Object
            || !thirdPartyInvite.TryGetProperty("signed", out var signed) || signed.ValueKind != JsonValueKind.Object)
            throw RoomPath.MissingParam("content.third_party_invite.signed is required.");

        await grains.GetGrain<IRoomThirdPartyInvites>(roomId)
            .ExchangeForServerAsync(context.FederationOrigin(), new ThirdPartyInviteExchange(sender, target, signed.Clone()));
        return RoomResults.Empty();
    }

    private static string RequireString(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value)) throw RoomPath.MissingParam($"{name} is required.");
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw MatrixException.BadJson($"{name} must be a string.");
    }

    private static string? StringOf(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
