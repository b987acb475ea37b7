using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Invites and leaves over federation: another server invites a user of this one (<c>/v1/invite</c>, <c>/v2/invite</c>),
/// and a user of another server leaves a room of this one (<c>make_leave</c>, <c>send_leave</c> v1 and v2). The origin
/// is the authenticated signer of the request (docs/adr/0038-federated-invites-and-leaves.md).
/// </summary>
internal static class FederationMembershipEndpoints
{
    public static void MapFederationMembershipEndpoints(this RouteGroupBuilder authenticated)
    {
        authenticated.MapGet("/v1/make_leave/{roomId}/{userId}", MakeLeaveAsync);
        authenticated.MapPut("/v1/send_leave/{roomId}/{eventId}", (HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
            SendLeaveAsync(context, grains, roomId, eventId, v1: true));
        authenticated.MapPut("/v2/send_leave/{roomId}/{eventId}", (HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
            SendLeaveAsync(context, grains, roomId, eventId, v1: false));
        authenticated.MapPut("/v1/invite/{roomId}/{eventId}", (HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
            InviteAsync(context, grains, roomId, eventId, v1: true));
        authenticated.MapPut("/v2/invite/{roomId}/{eventId}", (HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
            InviteAsync(context, grains, roomId, eventId, v1: false));
    }

    private static async Task<IResult> MakeLeaveAsync(HttpContext context, IGrainFactory grains, string roomId, string userId) =>
        TypedResults.Bytes(
            await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId)).MakeLeaveAsync(context.FederationOrigin(), RoomPath.UserId(userId)),
            JsonContentType.Utf8);

    /// <summary>v2 answers <c>{}</c>; the deprecated v1 <c>[200, {}]</c>.</summary>
    private static async Task<IResult> SendLeaveAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId, bool v1)
    {
        await grains.GetGrain<IRoomGrain>(FederationRoomEndpoints.RoomIdOf(roomId))
            .SendLeaveAsync(new SendJoinRequest(context.FederationOrigin(), RoomPath.EventId(eventId), context.FederationBody()));
        return TypedResults.Bytes(v1 ? "[200,{}]"u8.ToArray() : "{}"u8.ToArray(), JsonContentType.Utf8);
    }

    /// <summary>v2 answers <c>{"event": ...}</c>; the deprecated v1 <c>[200, {"event": ...}]</c>.</summary>
    private static async Task<IResult> InviteAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId, bool v1)
    {
        var result = await grains.GetGrain<IFederatedInviteGrain>(RoomPath.RoomId(roomId))
            .ReceiveAsync(context.FederationOrigin(), RoomPath.EventId(eventId), context.FederationBody(), v1);
        if (result.SignedEvent is not { } signed)
            throw new MatrixException(StatusCodes.Status400BadRequest,
                new MatrixError("M_INCOMPATIBLE_ROOM_VERSION", $"This server does not support room version {result.RoomVersion}.")
                {
                    RoomVersion = result.RoomVersion,
                });
        var prefix = v1 ? "[200,{\"event\":"u8 : "{\"event\":"u8;
        var suffix = v1 ? "}]"u8 : "}"u8;
        var body = new byte[prefix.Length + signed.Length + suffix.Length];
        prefix.CopyTo(body);
        signed.CopyTo(body, prefix.Length);
        suffix.CopyTo(body.AsSpan(prefix.Length + signed.Length));
        return TypedResults.Bytes(body, JsonContentType.Utf8);
    }
}
