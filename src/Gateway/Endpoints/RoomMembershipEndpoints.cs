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
        var limits = context.RateLimits();
        await limits.RequireForUserAsync(session, RateLimitBucket.JoinsLocal);
        await limits.RequireAsync(session, roomId, RateLimitBucket.JoinsPerRoom);
        if (body.ThirdPartySigned is { } thirdPartySigned)
            await AcceptThirdPartyInviteAsync(grains, roomId, session.UserId, thirdPartySigned);
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
        if (body.IsThirdParty) return await InviteByThirdPartyIdAsync(context, grains, session, roomId, body);
        var request = new MembershipRequest(session.UserId, RequireTarget(body.UserId), body.Reason);
        await RequireInviteLimitsAsync(context.RateLimits(), request, session, roomId);
        await grains.GetGrain<IRoomGrain>(roomId).InviteAsync(request);
        return RoomResults.Empty();
    }

    /// <summary>
    /// An invite by email or phone number: the identity server named looks the address up; a bound address is invited
    /// as its user, an unbound one gets an <c>m.room.third_party_invite</c> (docs/adr/0046-third-party-invites.md).
    /// </summary>
    private static async Task<IResult> InviteByThirdPartyIdAsync(HttpContext context, IGrainFactory grains, Session session, string roomId, InviteBody body)
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
        var limits = context.RateLimits();
        await limits.RequireForUserAsync(session, RateLimitBucket.InvitesPerIssuer);
        await limits.RequireAsync(session, roomId, RateLimitBucket.InvitesPerRoom);
        await limits.RequireAsync(session, $"{body.Medium}:{body.Address}", RateLimitBucket.InvitesPerUser);
        await grains.GetGrain<IRoomThirdPartyInvites>(roomId).InviteByThirdPartyIdAsync(
            new ThirdPartyIdInvite(session.UserId, body.IdServer!, body.IdAccessToken!, body.Medium!, body.Address!, body.Reason));
        return RoomResults.Empty();
    }

    /// <summary>
    /// A join with <c>third_party_signed</c> (the identity server's signed proof, with the inviter as <c>sender</c>)
    /// first turns the pending third-party invite into an invite of the joining user, as the spec asks the server to
    /// check it matches a pending <c>m.room.third_party_invite</c>.
    /// </summary>
    private static async Task AcceptThirdPartyInviteAsync(IGrainFactory grains, string roomId, string userId, System.Text.Json.JsonElement signed)
    {
        if (signed.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw MatrixException.BadJson("third_party_signed must be an object.");
        foreach (var name in new[] { "sender", "mxid", "token", "signatures" })
        {
            if (!signed.TryGetProperty(name, out _)) throw RoomPath.MissingParam($"third_party_signed needs {name}.");
        }
        if (signed.GetProperty("sender").ValueKind != System.Text.Json.JsonValueKind.String
            || !Grains.Identifiers.UserId.IsValid(signed.GetProperty("sender").GetString()))
            throw MatrixException.BadJson("third_party_signed.sender must be a user ID.");
        if (signed.GetProperty("mxid").ValueKind != System.Text.Json.JsonValueKind.String || signed.GetProperty("mxid").GetString() != userId)
            throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN", "third_party_signed.mxid is not the joining user.");
        await grains.GetGrain<IRoomThirdPartyInvites>(roomId).AcceptThirdPartyInviteAsync(
            new ThirdPartyInviteExchange(signed.GetProperty("sender").GetString()!, userId, signed));
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
