using System.Text.Json.Serialization;
using HomeServer.Gateway.Admin;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// <c>GET /_homeserver/admin/metrics</c>: a JSON snapshot of this process's <c>HomeServer.*</c> and Orleans counters for server
/// admins, so that a benchmark can read them before and after a run without an OTLP collector.
/// </summary>
internal static class MetricsEndpoints
{
    public static void MapMetricsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_homeserver/admin/metrics", GetMetricsAsync);
    }

    private static async Task<IResult> GetMetricsAsync(HttpContext context, IProcessCounters counters)
    {
        await context.RequireAdminSessionAsync();
        var snapshot = new MetricsSnapshot(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), new SortedDictionary<string, double>(counters.Snapshot().ToDictionary(), StringComparer.Ordinal));
        return TypedResults.Json(snapshot, MetricsJsonContext.Default.MetricsSnapshot);
    }
}

internal sealed record MetricsSnapshot(
    [property: JsonPropertyName("collected_at")] long CollectedAt,
    [property: JsonPropertyName("counters")] SortedDictionary<string, double> Counters);

[JsonSerializable(typeof(MetricsSnapshot))]
internal sealed partial class MetricsJsonContext : JsonSerializerContext;
