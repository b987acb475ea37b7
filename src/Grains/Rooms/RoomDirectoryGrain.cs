using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
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

    public async Task<AliasLookup?> LookUpAliasAsync(string alias)
    {
        var parsed = ParseAlias(alias);
        if (parsed.Server.Value != server.Name) return await AskAliasServerAsync(parsed);
        if (await store.Aliases.GetAliasAsync(alias, CancellationToken.None) is not { } mapping) return null;
        var servers = await GrainFactory.GetGrain<IRoomRemoteJoins>(mapping.RoomId).GetJoinedServersAsync();
        return new AliasLookup(mapping.RoomId, servers.Count > 0 ? servers : [server.Name]);
    }

    /// <summary>
    /// <c>GET /_matrix/federation/v1/query/directory</c> to the alias's server. Its 404 means no such alias; any other
    /// failure (unreachable, an invalid answer) is an error the client sees, not an unknown alias.
    /// </summary>
    private async Task<AliasLookup?> AskAliasServerAsync(Identifiers.RoomAlias alias)
    {
        var destination = alias.Server.Value;
        var client = ServiceProvider.GetRequiredService<FederationClient>();
        FederationResponse response;
        try
        {
            response = await client.SendAsync(destination, HttpMethod.Get,
                $"/_matrix/federation/v1/query/directory?room_alias={Uri.EscapeDataString(alias.ToString())}", null, CancellationToken.None);
        }
        catch (FederationRequestException e)
        {
            throw Federation.RemoteServerFailure.Of($"The server of {alias} could not be reached: {e.Message}");
        }
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        JsonObject? body = null;
        try
        {
            if (response.IsSuccess) body = JsonNode.Parse(response.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (body?["room_id"] is not JsonValue roomIdValue || roomIdValue.GetValueKind() != JsonValueKind.String
            || !RoomId.IsValid(roomIdValue.GetValue<string>()))
            throw Federation.RemoteServerFailure.Of($"The server of {alias} gave no valid answer ({(int)response.StatusCode}).");
        var servers = body["servers"] is JsonArray array
            ? array.OfType<JsonValue>().Where(v => v.GetValueKind() == JsonValueKind.String).Select(v => v.GetValue<string>()).ToList()
            : [];
        // The alias's server is asked last if it does not name itself: it answered, so it knows the room.
        if (!servers.Contains(destination)) servers.Add(destination);
        return new AliasLookup(roomIdValue.GetValue<string>(), servers);
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
