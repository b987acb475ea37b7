using System.Text.Json;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Federation;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// End-to-end keys of this server's users for other servers (docs/adr/0040-federated-keys-and-edus.md): their devices
/// (<c>/user/devices</c>), their device and cross-signing keys (<c>/user/keys/query</c>) and one-time keys
/// (<c>/user/keys/claim</c>), answered by the same key grains as the client endpoints.
/// </summary>
internal static class FederationKeysEndpoints
{
    public static void MapFederationKeysEndpoints(this RouteGroupBuilder authenticated)
    {
        authenticated.MapGet("/v1/user/devices/{userId}", GetDevicesAsync);
        authenticated.MapPost("/v1/user/keys/query", QueryAsync);
        authenticated.MapPost("/v1/user/keys/claim", ClaimAsync);
    }

    private static async Task<IResult> GetDevicesAsync(IGrainFactory grains, string userId) =>
        TypedResults.Bytes(await grains.GetGrain<IKeyQueryGrain>("local").GetDevicesForServerAsync(RoomPath.Text(userId)), JsonContentType.Utf8);

    private static async Task<IResult> QueryAsync(HttpContext context, IGrainFactory grains) =>
        TypedResults.Bytes(await grains.GetGrain<IKeyQueryGrain>("local").QueryForServerAsync(Body(context)), JsonContentType.Utf8);

    private static async Task<IResult> ClaimAsync(HttpContext context, IGrainFactory grains) =>
        TypedResults.Bytes(await grains.GetGrain<IKeyQueryGrain>("local").ClaimForServerAsync(Body(context)), JsonContentType.Utf8);

    private static JsonElement Body(HttpContext context)
    {
        try
        {
            return JsonDocument.Parse(context.FederationBody()).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw MatrixException.BadJson("The body is not JSON.");
        }
    }
}
