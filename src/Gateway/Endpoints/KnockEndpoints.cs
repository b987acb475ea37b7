using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
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

/// <summary>POST /knock/{roomIdOrAlias}: asking to be let into a room whose join rule allows knocking.</summary>
internal static class KnockEndpoints
{
    public static void MapKnockEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGroup("/_matrix/client/v3").WithBodySize(BodySize.Small)
            .MapPost("/knock/{roomIdOrAlias}", KnockAsync);

    private static async Task<IResult> KnockAsync(HttpContext context, IGrainFactory grains, LocalServer server, string roomIdOrAlias)
    {
        var session = await context.RequireSessionAsync();
        var roomId = await RoomTarget.ResolveAsync(grains, server, roomIdOrAlias);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.ReasonBody, new ReasonBody(null));
        var limits = context.RateLimits();
        await limits.RequireForUserAsync(session, RateLimitBucket.JoinsLocal);
        await limits.RequireAsync(session, roomId, RateLimitBucket.JoinsPerRoom);
        await grains.GetGrain<IRoomGrain>(roomId).KnockAsync(session.UserId, body.Reason);
        return TypedResults.Json(new RoomIdResponse(roomId), RoomsJsonContext.Default.RoomIdResponse);
    }
}
