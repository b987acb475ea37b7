using System.Globalization;
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

internal static class RoomDirectoryEndpoints
{
    public static void MapRoomDirectoryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var v3 = endpoints.MapGroup("/_matrix/client/v3").WithBodySize(BodySize.Small);
        v3.MapGet("/directory/room/{roomAlias}", ResolveAliasAsync);
        v3.MapPut("/directory/room/{roomAlias}", CreateAliasAsync);
        v3.MapDelete("/directory/room/{roomAlias}", DeleteAliasAsync);
        v3.MapGet("/rooms/{roomId}/aliases", GetLocalAliasesAsync);
        v3.MapGet("/directory/list/room/{roomId}", GetVisibilityAsync);
        v3.MapPut("/directory/list/room/{roomId}", SetVisibilityAsync);
        v3.MapGet("/publicRooms", GetPublicRoomsAsync);
        v3.MapPost("/publicRooms", QueryPublicRoomsAsync);
    }

    private static async Task<IResult> ResolveAliasAsync(IGrainFactory grains, LocalServer server, string roomAlias)
    {
        var alias = RoomPath.RoomAlias(roomAlias);
        var lookup = await grains.GetGrain<IRoomDirectoryGrain>(server.Name).LookUpAliasAsync(alias)
            ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"Room alias {alias} not found.");
        return TypedResults.Json(new AliasResolution(lookup.RoomId, lookup.Servers), RoomsJsonContext.Default.AliasResolution);
    }

    private static async Task<IResult> CreateAliasAsync(HttpContext context, IGrainFactory grains, LocalServer server, string roomAlias)
    {
        var session = await context.RequireSessionAsync();
        var alias = RoomPath.RoomAlias(roomAlias);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.AliasBody);
        var roomId = body.RoomId ?? throw RoomPath.MissingParam("room_id is required.");
        try
        {
            await grains.GetGrain<IRoomDirectoryGrain>(server.Name).CreateAliasAsync(alias, roomId, session.UserId);
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_ROOM_IN_USE")
        {
            // The API reports an existing alias as 409 with M_UNKNOWN.
            throw new MatrixException(StatusCodes.Status409Conflict, MatrixErrorCode.Unknown, e.Error);
        }
        return RoomResults.Empty();
    }

    private static async Task<IResult> DeleteAliasAsync(HttpContext context, IGrainFactory grains, LocalServer server, string roomAlias)
    {
        var session = await context.RequireSessionAsync();
        var alias = RoomPath.RoomAlias(roomAlias);
        await grains.GetGrain<IRoomDirectoryGrain>(server.Name).DeleteAliasAsync(alias, session.UserId, session.IsAdmin);
        return RoomResults.Empty();
    }

    private static async Task<IResult> GetLocalAliasesAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        var aliases = await grains.GetGrain<IRoomGrain>(RoomPath.RoomId(roomId)).GetLocalAliasesAsync(session.UserId);
        return TypedResults.Json(new AliasesResponse(aliases), RoomsJsonContext.Default.AliasesResponse);
    }

    private static async Task<IResult> GetVisibilityAsync(IGrainFactory grains, string roomId)
    {
        var published = await grains.GetGrain<IRoomGrain>(RoomPath.RoomId(roomId)).IsPublishedAsync();
        return TypedResults.Json(new VisibilityResponse(published ? "public" : "private"), RoomsJsonContext.Default.VisibilityResponse);
    }

    private static async Task<IResult> SetVisibilityAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.VisibilityBody, new VisibilityBody(null));
        var published = body.Visibility switch
        {
            null or "public" => true,
            "private" => false,
            _ => throw MatrixException.BadJson("visibility must be 'public' or 'private'."),
        };
        await grains.GetGrain<IRoomGrain>(roomId).SetPublishedAsync(session.UserId, session.IsAdmin, published);
        return RoomResults.Empty();
    }

    private static async Task<IResult> GetPublicRoomsAsync(HttpContext context, IGrainFactory grains, LocalServer server, string? since, string? limit)
    {
        RequireLocalServer(context.Request.Query["server"], server);
        var query = new PublicRoomsQuery(ParseLimit(limit), since, null);
        return RoomResults.Json(await grains.GetGrain<IRoomDirectoryGrain>(server.Name).GetPublicRoomsAsync(query));
    }

    private static async Task<IResult> QueryPublicRoomsAsync(HttpContext context, IGrainFactory grains, LocalServer server)
    {
        await context.RequireSessionAsync();
        RequireLocalServer(context.Request.Query["server"], server);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.PublicRoomsBody);
        if (body.Limit is < 0) throw RoomPath.InvalidParam("limit must not be negative.");
        var query = new PublicRoomsQuery(body.Limit, body.Since, body.Filter?.GenericSearchTerm, body.Filter?.RoomTypes);
        return RoomResults.Json(await grains.GetGrain<IRoomDirectoryGrain>(server.Name).GetPublicRoomsAsync(query));
    }

    /// <summary>Other servers' directories need federation; only this server's is served.</summary>
    private static void RequireLocalServer(Microsoft.Extensions.Primitives.StringValues requested, LocalServer server)
    {
        if (requested.Count > 0 && requested[0] != server.Name)
            throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"The directory of {requested[0]} cannot be reached from this server.");
    }

    private static int? ParseLimit(string? value)
    {
        if (value is null) return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? limit
            : throw RoomPath.InvalidParam("limit must be a non-negative integer.");
    }
}
