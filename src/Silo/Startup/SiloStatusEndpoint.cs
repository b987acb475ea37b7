using System.Text.Json.Serialization;
using HomeServer.Grains.Cluster;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// <c>GET /_homeserver/silo</c> on a silo process: its address, membership status, build and how many grains it
/// hosts right now (Orleans' activation working set), so an operator or a test can watch grains
/// move during a drain without an OpenTelemetry collector. Only silos map it; gateways host no grains.
/// </summary>
internal static class SiloStatusEndpoint
{
    public const string Path = "/_homeserver/silo";


    public static void MapSiloStatus(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, (ISiloStatusOracle silo, IActivationWorkingSet activations, SiloBuild build) =>
            TypedResults.Json(
                new SiloStatusResponse(silo.SiloAddress.ToParsableString(), silo.CurrentStatus.ToString(), build.Version, activations.Count),
                SiloStatusJsonContext.Default.SiloStatusResponse));
}

internal sealed record SiloStatusResponse(
    [property: JsonPropertyName("silo")] string? Silo,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("build_version")] string? BuildVersion,
    [property: JsonPropertyName("grains")] int Grains);

[JsonSerializable(typeof(SiloStatusResponse))]
internal sealed partial class SiloStatusJsonContext : JsonSerializerContext;
