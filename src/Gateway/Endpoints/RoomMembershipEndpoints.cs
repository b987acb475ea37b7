using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

internal static class RoomMembershipEndpoints
{
    public static void MapRoomMembershipEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var v3 = endpoints.MapGroup("/_matrix/client/v3").WithBodySize(BodySize.Small);
        v3.MapPost("/join/{roomIdOrAlias}", JoinByIdOrAliasAsync);
        v3.MapPost("/rooms/{roomId}/join", JoinAsync);
        v3.MapPost("/rooms/{roomId}/invite", (HttpContext c, IGrainFactory g, string roomId) =>
            ChangeMembershipAsync(c, g, roomId, (room, request) => room.InviteAsync(request)));
        v3.MapPost("/rooms/{roomId}/kick", (HttpContext c, IGrainFactory g, string roomId) =>
            ChangeMembershipAsync(c, g, roomId, (room, request) => room.KickAsync(request)));
        v3.MapPost("/rooms/{roomId}/ban", (HttpContext c, IGrainFactory g, string roomId) =>
            ChangeMembershipAsync(c, g, roomId, (room, request) => room.BanAsync(request)));
        v3.MapPost("/rooms/{roomId}/unban", (HttpContext c, IGrainFactory g, string roomId) =>
            ChangeMembershipAsync(c, g, roomId, (room, request) => room.UnbanAsync(request)));
        v3.MapPost("/rooms/{roomId}/leave", LeaveAsync);
        v3.MapPost("/rooms/{roomId}/forget", ForgetAsync);
        v3.MapGet("/joined_rooms", GetJoinedRoomsAsync);
    }

    private static async Task<IResult> JoinByIdOrAliasAsync(HttpContext context, IGrainFactory grains, LocalServer server, string roomIdOrAlias)
    {
        await context.RequireSessionAsync();
        var target = RoomPath.Text(roomIdOrAlias);
        string roomId;
        if (target.StartsWith('#'))
        {
            var alias = RoomPath.RoomAlias(target);
            roomId = await grains.GetGrain<IRoomDirectoryGrain>(server.Name).ResolveAliasAsync(alias)
                ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"Room alias {alias} not found.");
        }
        else if (target.StartsWith('!'))
        {
            roomId = RoomPath.RoomId(target);
        }
        else
        {
            throw RoomPath.InvalidParam("Expected a room ID or a room alias.");
        }
        return await JoinAsync(context, grains, roomId);
    }

    private static async Task<IResult> JoinAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.JoinBody, new JoinBody(null, null));
        if (body.ThirdPartySigned is not null)
            throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN", "Third-party invites are not supported.");
        await grains.GetGrain<IRoomGrain>(roomId).JoinAsync(session.UserId, body.Reason);
        return TypedResults.Json(new RoomIdResponse(roomId), RoomsJsonContext.Default.RoomIdResponse);
    }

    private static async Task<IResult> ChangeMembershipAsync(
        HttpContext context, IGrainFactory grains, string roomId, Func<IRoomGrain, MembershipRequest, Task> change)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.TargetUserBody);
        var target = body.UserId ?? throw RoomPath.MissingParam("user_id is required.");
        if (!Grains.Identifiers.UserId.IsValid(target)) throw RoomPath.InvalidParam($"'{target}' is not a user ID.");
        await change(grains.GetGrain<IRoomGrain>(roomId), new MembershipRequest(session.UserId, target, body.Reason));
        return RoomResults.Empty();
    }

    private static async Task<IResult> LeaveAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.ReasonBody, new ReasonBody(null));
        await grains.GetGrain<IRoomGrain>(roomId).LeaveAsync(session.UserId, body.Reason);
        return RoomResults.Empty();
    }

    private static async Task<IResult> ForgetAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        try
        {
            await grains.GetGrain<IRoomGrain>(roomId).ForgetAsync(session.UserId);
        }
        catch (MatrixRequestException e) when (e.ErrCode == MatrixErrorCode.Unknown)
        {
            // The API answers a user who is still in the room with 400 M_UNKNOWN.
            throw new MatrixException(StatusCodes.Status400BadRequest, e.ErrCode, e.Error);
        }
        return RoomResults.Empty();
    }

    private static async Task<IResult> GetJoinedRoomsAsync(HttpContext context, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var rooms = await grains.GetGrain<IUserRoomsGrain>(session.UserId).GetJoinedRoomsAsync();
        return TypedResults.Json(new JoinedRoomsResponse(rooms), RoomsJsonContext.Default.JoinedRoomsResponse);
    }
}
