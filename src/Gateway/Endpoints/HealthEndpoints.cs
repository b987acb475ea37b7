using HomeServer.Gateway.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health");
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(GatewayHealthTags.Ready),
        });
        // Liveness runs no checks: answering at all shows the process is not wedged.
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
    }
}
