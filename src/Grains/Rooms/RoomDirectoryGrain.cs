using HomeServer.Grains.Identifiers;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Rooms;

[GrainType("room-directory")]
public sealed class RoomDirectoryGrain(IHomeServerStore store, LocalServer server) : HomeServerGrain, IRoomDirectoryGrain
{
    public async Task<string?> ResolveAliasAsync(string alias)
    {
        var parsed = ParseAlias(alias);
        // Aliases of other servers need federation, which this server does not speak.
        if (parsed.Server.Value != server.Name) return null;
        return (await store.Aliases.GetAliasAsync(alias, CancellationToken.None))?.RoomId;
    }

    public async Task CreateAliasAsync(string alias, string roomId, string userId)
    {
        RequireLocal(ParseAlias(alias));
        if (!RoomId.IsValid(roomId)) throw MatrixRequestException.InvalidParam($"'{roomId}' is not a room ID.");
        if (!await GrainFactory.GetGrain<IRoomGrain>(roomId).IsJoinedAsync(userId))
            throw MatrixRequestException.Forbidden("You must be joined to the room to give it an alias.");
        if (!await store.Aliases.CreateAliasAsync(new Storage.RoomAlias(alias, roomId, userId), CancellationToken.None))
            throw new MatrixRequestException("M_ROOM_IN_USE", $"Room alias {alias} already exists.");
    }

    public async Task DeleteAliasAsync(string alias, string userId, bool isAdmin)
    {
        RequireLocal(ParseAlias(alias));
        var mapping = await store.Aliases.GetAliasAsync(alias, CancellationToken.None)
            ?? throw MatrixRequestException.NotFound($"Room alias {alias} not found.");
        var allowed = isAdmin || mapping.Creator == userId || await MaySetCanonicalAliasAsync(mapping.RoomId, userId);
        if (!allowed) throw MatrixRequestException.Forbidden("Only the alias's creator, room admins and server admins may delete it.");
        if (!await store.Aliases.DeleteAliasAsync(alias, CancellationToken.None))
            throw MatrixRequestException.NotFound($"Room alias {alias} not found.");
        // As Synapse: a deleted alias no longer stands in the room's canonical alias state.
        await GrainFactory.GetGrain<IRoomGrain>(mapping.RoomId).RemoveCanonicalAliasAsync(alias, userId);
    }

    public Task<byte[]> GetPublicRoomsAsync(PublicRoomsQuery query) =>
        new PublicRoomsListing(store, GrainFactory).ListAsync(query);

    private async Task<bool> MaySetCanonicalAliasAsync(string roomId, string userId)
    {
        try
        {
            return await GrainFactory.GetGrain<IRoomGrain>(roomId).CanSendStateAsync(userId, "m.room.canonical_alias");
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_NOT_FOUND")
        {
            return false;
        }
    }

    private static Identifiers.RoomAlias ParseAlias(string alias) =>
        Identifiers.RoomAlias.TryParse(alias, out var parsed) ? parsed : throw MatrixRequestException.InvalidParam("Room alias invalid.");

    private void RequireLocal(Identifiers.RoomAlias alias)
    {
        if (alias.Server.Value != server.Name)
            throw MatrixRequestException.InvalidParam($"Room aliases must be on this server ({server.Name}).");
    }
}
