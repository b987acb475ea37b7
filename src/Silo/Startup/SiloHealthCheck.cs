using HomeServer.Runtime.Membership;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeServer.Silo.Startup;

/// <summary>Ready only while this silo is Active in the cluster (not joining, draining or dead).</summary>
internal sealed class SiloHealthCheck(Runtime.Hosting.Silo silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(silo.Status == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"silo is {silo.Status}"));
}
