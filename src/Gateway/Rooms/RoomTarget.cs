using HomeServer.Gateway.Errors;
using HomeServer.Grains;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Http;
using Orleans;

namespace HomeServer.Gateway.Rooms;

/// <summary>The <c>{roomIdOrAlias}</c> path parameter of join and knock: a room id as it is, an alias through the directory.</summary>
internal static class RoomTarget
{
    public static async Task<string> ResolveAsync(IGrainFactory grains, LocalServer server, string roomIdOrAlias)
    {
        var target = RoomPath.Text(roomIdOrAlias);
        if (target.StartsWith('!')) return RoomPath.RoomId(target);
        if (!target.StartsWith('#')) throw RoomPath.InvalidParam("Expected a room ID or a room alias.");
        var alias = RoomPath.RoomAlias(target);
        return await grains.GetGrain<IRoomDirectoryGrain>(server.Name).ResolveAliasAsync(alias)
            ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"Room alias {alias} not found.");
    }
}
