using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// POST /knock/{roomIdOrAlias}: asking to be let into a room whose join rule allows knocking; a room of other servers
/// through them (<c>via</c>, <c>server_name</c>, the alias's or room id's server).
/// </summary>
internal static class KnockEndpoints
{
    public static void MapKnockEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGroup("/_matrix/client/v3").WithBodySize(BodySize.Small)
            .MapPost("/knock/{roomIdOrAlias}", KnockAsync);

    private static async Task<IResult> KnockAsync(HttpContext context, IGrainFactory grains, LocalServer server, string roomIdOrAlias)
    {
        var session = await context.RequireSessionAsync();
        // server_name is the older name of via; both are honoured, via first.
        var via = context.Request.Query["via"].Concat(context.Request.Query["server_name"]).OfType<string>().Where(name => name.Length > 0);
        var (roomId, servers) = await RoomTarget.ResolveForJoinAsync(grains, server, roomIdOrAlias, via);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.ReasonBody, new ReasonBody(null));
        var limits = context.RateLimits();
        await limits.RequireForUserAsync(session, RateLimitBucket.JoinsLocal);
        await limits.RequireAsync(session, roomId, RateLimitBucket.JoinsPerRoom);
        // A room with a member of this server joined is knocked on here; one of other servers only, or unknown here,
        // through its servers (make_knock/send_knock, docs/adr/0045).
        var joinedServers = await grains.GetGrain<IRoomRemoteJoins>(roomId).GetJoinedServersAsync();
        var remote = joinedServers.Contains(server.Name)
            ? []
            : servers.Concat(joinedServers).Where(name => name != server.Name).Distinct(StringComparer.Ordinal).ToList();
        if (remote.Count > 0) await grains.GetGrain<IFederatedKnockGrain>(roomId).KnockAsync(session.UserId, body.Reason, remote);
        else await grains.GetGrain<IRoomGrain>(roomId).KnockAsync(session.UserId, body.Reason);
        return TypedResults.Json(new RoomIdResponse(roomId), RoomsJsonContext.Default.RoomIdResponse);
    }
}
