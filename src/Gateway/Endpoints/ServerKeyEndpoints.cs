using HomeServer.Gateway.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// <c>GET /_matrix/key/v2/server</c> (server-server keys_server.yaml): this server's signing keys, signed by its current
/// key, for any other server to fetch without authentication. The older <c>/server/{keyId}</c> form is no longer in the
/// spec and is not served (docs/adr/0031-server-signing-keys.md).
/// </summary>
internal static class ServerKeyEndpoints
{
    public static void MapServerKeyEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/_matrix/key/v2/server", GetServerKeysAsync);

    private static async Task<IResult> GetServerKeysAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var body = await grains.GetGrain<IServerKeysGrain>("local").GetServerKeysAsync();
        return TypedResults.Bytes(body, JsonContentType.Utf8);
    }
}
