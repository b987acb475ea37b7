using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Room tags of the logged-in user (client-server/tags.yaml), kept as the m.tag room account data.</summary>
internal static class RoomTagEndpoints
{
    private const string TagsPath = "/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags";

    public static void MapRoomTagEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(TagsPath, GetTagsAsync);
        endpoints.MapPut(TagsPath + "/{tag}", SetTagAsync).WithBodySize(BodySize.Small);
        endpoints.MapDelete(TagsPath + "/{tag}", DeleteTagAsync);
    }

    private static async Task<IResult> GetTagsAsync(HttpContext context, string userId, string roomId, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, roomId, grains);
        return AccountsJsonBody.Bytes(await user.GetRoomTagsAsync(roomId));
    }

    private static async Task<IResult> SetTagAsync(HttpContext context, string userId, string roomId, string tag, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, roomId, grains);
        var content = AccountsJsonBody.Compact(await AccountsJsonBody.ReadObjectAsync(context.Request));
        await user.SetRoomTagAsync(roomId, RoomPath.Text(tag), content);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> DeleteTagAsync(HttpContext context, string userId, string roomId, string tag, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnUserAsync(context, userId, roomId, grains);
        await user.DeleteRoomTagAsync(roomId, RoomPath.Text(tag));
        return AccountsJsonBody.Empty();
    }

    private static async Task<IUserGrain> RequireOwnUserAsync(HttpContext context, string userId, string roomId, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId != session.UserId) throw AccountErrors.Forbidden("Cannot access the tags of other users.");
        if (!RoomId.IsValid(roomId)) throw AccountErrors.InvalidParam($"{roomId} is not a valid room ID.");
        return grains.GetGrain<IUserGrain>(userId);
    }
}
