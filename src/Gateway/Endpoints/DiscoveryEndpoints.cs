using HomeServer.Gateway.Discovery;
using HomeServer.Gateway.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Endpoints;

internal static class DiscoveryEndpoints
{
    public static void MapDiscoveryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/versions", GetVersions);
        endpoints.MapGet("/.well-known/matrix/client", GetWellKnownClient);
    }

    private static IResult GetVersions() =>
        TypedResults.Json(VersionsResponse.Current, GatewayJsonContext.Default.VersionsResponse);

    private static IResult GetWellKnownClient(IOptions<MatrixGatewayOptions> options)
    {
        var baseUrl = options.Value.PublicBaseUrl!.TrimEnd('/');
        return TypedResults.Json(
            new WellKnownClientResponse(new HomeServerInformation(baseUrl)),
            GatewayJsonContext.Default.WellKnownClientResponse);
    }
}
