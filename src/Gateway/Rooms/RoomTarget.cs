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

    /// <summary>
    /// The room to join and the servers to join it through should this server not be in it: for an alias, those its
    /// server names (any server's alias is looked up); for a room id, those of <paramref name="via"/> (the
    /// <c>via</c> and <c>server_name</c> query parameters); the server of the room id or the alias last.
    /// </summary>
    public static async Task<(string RoomId, IReadOnlyList<string> Servers)> ResolveForJoinAsync(
        IGrainFactory grains, LocalServer server, string roomIdOrAlias, IEnumerable<string> via)
    {
        var target = RoomPath.Text(roomIdOrAlias);
        if (target.StartsWith('!'))
        {
            var roomId = RoomPath.RoomId(target);
            return (roomId, [.. via, .. ServerOf(roomId)]);
        }
        if (!target.StartsWith('#')) throw RoomPath.InvalidParam("Expected a room ID or a room alias.");
        var alias = RoomPath.RoomAlias(target);
        var lookup = await grains.GetGrain<IRoomDirectoryGrain>(server.Name).LookUpAliasAsync(alias)
            ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"Room alias {alias} not found.");
        return (lookup.RoomId, [.. lookup.Servers, .. ServerOf(alias)]);
    }

    /// <summary>The server of a room id, the one to join it through when no other is named.</summary>
    public static IReadOnlyList<string> ServersOfRoomId(string roomId) => [.. ServerOf(roomId)];

    private static IEnumerable<string> ServerOf(string roomIdOrAlias)
    {
        var colon = roomIdOrAlias.IndexOf(':');
        return colon > 0 ? [roomIdOrAlias[(colon + 1)..]] : [];
    }
}
