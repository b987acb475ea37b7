using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// A user of another server knocks on a room of this one: <c>make_knock</c> and <c>send_knock</c> (room versions 7+).
/// The origin is the authenticated signer of the request (docs/adr/0045-federated-knocks-restricted-joins-presence.md).
/// </summary>
internal static class FederationKnockEndpoints
{
    public static void MapFederationKnockEndpoints(this RouteGroupBuilder authenticated)
    {
        authenticated.MapGet("/v1/make_knock/{roomId}/{userId}", MakeKnockAsync);
        authenticated.MapPut("/v1/send_knock/{roomId}/{eventId}", SendKnockAsync);
    }

    private static async Task<IResult> MakeKnockAsync(HttpContext context, IGrainFactory grains, string roomId, string userId)
    {
        // `ver` is required for make_knock; none named means none supported.
        var versions = context.Request.Query["ver"].OfType<string>().ToList();
        var result = await grains.GetGrain<IRoomFederatedKnocks>(FederationRoomEndpoints.RoomIdOf(roomId))
            .MakeKnockAsync(context.FederationOrigin(), RoomPath.UserId(userId), versions);
        if (result.Template is null)
            throw new MatrixException(StatusCodes.Status400BadRequest,
                new MatrixError("M_INCOMPATIBLE_ROOM_VERSION", $"The room's version {result.RoomVersion} is not among those your server supports.")
                {
                    RoomVersion = result.RoomVersion,
                });
        return TypedResults.Bytes(result.Template, JsonContentType.Utf8);
    }

    private static async Task<IResult> SendKnockAsync(HttpContext context, IGrainFactory grains, string roomId, string eventId) =>
        TypedResults.Bytes(
            await grains.GetGrain<IRoomFederatedKnocks>(FederationRoomEndpoints.RoomIdOf(roomId))
                .SendKnockAsync(new SendJoinRequest(context.FederationOrigin(), RoomPath.EventId(eventId), context.FederationBody())),
            JsonContentType.Utf8);
}
