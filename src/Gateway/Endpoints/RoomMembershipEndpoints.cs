using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
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
        v3.MapPost("/rooms/{roomId}/invite", InviteAsync);
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
        // server_name is the older name of via; both are honoured, via first.
        var via = context.Request.Query["via"].Concat(context.Request.Query["server_name"]).OfType<string>().Where(name => name.Length > 0);
        var (roomId, servers) = await RoomTarget.ResolveForJoinAsync(grains, server, roomIdOrAlias, via);
        return await JoinThroughAsync(context, grains, roomId, servers);
    }

    private static Task<IResult> JoinAsync(HttpContext context, IGrainFactory grains, string roomId) =>
        JoinThroughAsync(context, grains, RoomPath.RoomId(roomId), RoomTarget.ServersOfRoomId(RoomPath.RoomId(roomId)));

    private static async Task<IResult> JoinThroughAsync(HttpContext context, IGrainFactory grains, string roomId, IReadOnlyList<string> servers)
    {
        var session = await context.RequireSessionAsync();
        var (body, content) = await RoomBodies.ReadOptionalWithObjectAsync(context.Request, RoomsJsonContext.Default.JoinBody, new JoinBody(null, null));
        if (body.ThirdPartySigned is not null)
            throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN", "Third-party invites are not supported.");
        var limits = context.RateLimits();
        await limits.RequireForUserAsync(session, RateLimitBucket.JoinsLocal);
        await limits.RequireAsync(session, roomId, RateLimitBucket.JoinsPerRoom);
        // As Synapse: the body is the member content (reason and any custom keys); the grain sets membership and profile.
        await grains.GetGrain<IRoomRemoteJoins>(roomId).JoinThroughServersAsync(new JoinRequest(session.UserId, content), servers);
        return TypedResults.Json(new RoomIdResponse(roomId), RoomsJsonContext.Default.RoomIdResponse);
    }

    private static async Task<IResult> ChangeMembershipAsync(
        HttpContext context, IGrainFactory grains, string roomId, Func<IRoomGrain, MembershipRequest, Task> change)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.TargetUserBody);
        var request = new MembershipRequest(session.UserId, RequireTarget(body.UserId), body.Reason);
        await RequireMessageLimitAsync(context.RateLimits(), request, session, roomId);
        await change(grains.GetGrain<IRoomGrain>(roomId), request);
        return RoomResults.Empty();
    }

    private static async Task<IResult> InviteAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.InviteBody);
        if (body.IsThirdParty) RefuseThirdPartyInvite(body);
        var request = new MembershipRequest(session.UserId, RequireTarget(body.UserId), body.Reason);
        await RequireInviteLimitsAsync(context.RateLimits(), request, session, roomId);
        await grains.GetGrain<IRoomGrain>(roomId).InviteAsync(request);
        return RoomResults.Empty();
    }

    /// <summary>
    /// An invite by email or phone number needs an identity server: to look the address up, and to store the invite,
    /// sign it and later vouch for the invitee (the token and keys of m.room.third_party_invite). This server reaches
    /// none, so after checking the request's shape it answers as Synapse does when third-party lookups are disabled.
    /// </summary>
    private static void RefuseThirdPartyInvite(InviteBody body)
    {
        string[] missing =
        [
            .. body.IdServer is null ? ["id_server"] : Array.Empty<string>(),
            .. body.IdAccessToken is null ? ["id_access_token"] : Array.Empty<string>(),
            .. body.Medium is null ? ["medium"] : Array.Empty<string>(),
            .. body.Address is null ? ["address"] : Array.Empty<string>(),
        ];
        if (missing.Length > 0)
            throw RoomPath.MissingParam($"An invite by third-party identifier needs {string.Join(", ", missing)} (or give user_id).");
        throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN",
            "Looking up third-party identifiers is denied from this server: it has no identity server, so invite by user ID.");
    }

    private static string RequireTarget(string? userId)
    {
        var target = userId ?? throw RoomPath.MissingParam("user_id is required.");
        return Grains.Identifiers.UserId.IsValid(target) ? target : throw RoomPath.InvalidParam($"'{target}' is not a user ID.");
    }

    private static Task RequireMessageLimitAsync(RateLimits limits, MembershipRequest request, Session session, string roomId) =>
        limits.RequireForUserAsync(session, RateLimitBucket.Message);

    /// <summary>As Synapse: invites sent by the user, sent into the room and received by the target are each limited.</summary>
    private static async Task RequireInviteLimitsAsync(RateLimits limits, MembershipRequest request, Session session, string roomId)
    {
        await limits.RequireForUserAsync(session, RateLimitBucket.InvitesPerIssuer);
        await limits.RequireAsync(session, roomId, RateLimitBucket.InvitesPerRoom);
        await limits.RequireAsync(session, request.TargetUserId, RateLimitBucket.InvitesPerUser);
    }

    private static async Task<IResult> LeaveAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        var body = await RoomBodies.ReadOptionalAsync(context.Request, RoomsJsonContext.Default.ReasonBody, new ReasonBody(null));
        await grains.GetGrain<IRoomGrain>(roomId).LeaveAsync(session.UserId, body.Reason);
        return RoomResults.Empty();
    }

    private static async Task<IResult> ForgetAsync(HttpContext context, IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
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
