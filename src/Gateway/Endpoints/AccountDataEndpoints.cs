using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Global and per-room account data of the logged-in user.</summary>
internal static class AccountDataEndpoints
{
    /// <summary>Types the server maintains through other endpoints (push rules, read markers).</summary>
    private static readonly HashSet<string> ServerManagedTypes = ["m.push_rules", "m.fully_read"];

    public static void MapAccountDataEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/user/{userId}/account_data/{type}", GetGlobalAsync);
        endpoints.MapPut("/_matrix/client/v3/user/{userId}/account_data/{type}", SetGlobalAsync).WithBodySize(BodySize.Event);
        endpoints.MapGet("/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}", GetForRoomAsync);
        endpoints.MapPut("/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}", SetForRoomAsync).WithBodySize(BodySize.Event);
    }

    private static Task<IResult> GetGlobalAsync(HttpContext context, string userId, string type, [FromServices] IGrainFactory grains) =>
        GetAsync(context, userId, roomId: null, type, grains);

    private static Task<IResult> SetGlobalAsync(HttpContext context, string userId, string type, [FromServices] IGrainFactory grains) =>
        SetAsync(context, userId, roomId: null, type, grains);

    private static Task<IResult> GetForRoomAsync(HttpContext context, string userId, string roomId, string type, [FromServices] IGrainFactory grains) =>
        GetAsync(context, userId, roomId, type, grains);

    private static Task<IResult> SetForRoomAsync(HttpContext context, string userId, string roomId, string type, [FromServices] IGrainFactory grains) =>
        SetAsync(context, userId, roomId, type, grains);

    private static async Task<IResult> GetAsync(HttpContext context, string userId, string? roomId, string type, IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, roomId, grains);
        var content = await user.GetAccountDataAsync(roomId, type)
            ?? throw AccountErrors.NotFound(roomId is null ? "Account data not found." : "Room account data not found.");
        return AccountsJsonBody.Bytes(content);
    }

    private static async Task<IResult> SetAsync(HttpContext context, string userId, string? roomId, string type, IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, roomId, grains);
        if (ServerManagedTypes.Contains(type))
            throw new MatrixException(StatusCodes.Status405MethodNotAllowed, "M_BAD_JSON", $"Cannot set {type} through this API.");
        var content = AccountsJsonBody.Compact(await AccountsJsonBody.ReadObjectAsync(context.Request));
        await user.SetAccountDataAsync(roomId, type, content);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IUserGrain> RequireOwnUserAsync(HttpContext context, string userId, string? roomId, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId != session.UserId) throw AccountErrors.Forbidden("Cannot access account data of other users.");
        if (roomId is not null && !RoomId.IsValid(roomId)) throw AccountErrors.InvalidParam($"{roomId} is not a valid room ID.");
        return grains.GetGrain<IUserGrain>(userId);
    }
}
