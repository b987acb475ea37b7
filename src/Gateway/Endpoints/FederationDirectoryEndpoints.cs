using System.Text.Json.Nodes;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Json;
using HomeServer.Grains;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// <c>GET /_matrix/federation/v1/query/directory</c>: another server resolves an alias of this one, to join its room
/// (docs/adr/0037-outbound-federated-joins.md).
/// </summary>
internal static class FederationDirectoryEndpoints
{
    public static void MapFederationDirectoryEndpoints(this RouteGroupBuilder authenticated)
    {
        authenticated.MapGet("/v1/query/directory", QueryDirectoryAsync);
    }

    /// <summary>The room and the servers with members joined in it; 404 <c>M_NOT_FOUND</c> for an alias this server does not hold.</summary>
    private static async Task<IResult> QueryDirectoryAsync(HttpContext context, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        var alias = context.Request.Query["room_alias"].ToString();
        if (string.IsNullOrEmpty(alias)) throw AccountErrors.MissingParam("Missing room_alias.");
        if (!RoomAlias.TryParse(alias, out var parsed)) throw AccountErrors.InvalidParam($"{alias} is not a room alias.");
        var lookup = parsed.Server.Value == server.Name ? await grains.GetGrain<IRoomDirectoryGrain>(server.Name).LookUpAliasAsync(alias) : null;
        if (lookup is null) throw AccountErrors.NotFound($"Room alias {alias} not found.");
        var body = new JsonObject
        {
            ["room_id"] = lookup.RoomId,
            ["servers"] = new JsonArray(lookup.Servers.Select(name => (JsonNode)name).ToArray()),
        };
        return TypedResults.Bytes(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), JsonContentType.Utf8);
    }
}
