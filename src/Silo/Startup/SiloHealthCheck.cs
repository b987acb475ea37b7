using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>Ready while this silo is Active in the cluster (not while joining, shutting down or stopping).</summary>
internal sealed class SiloHealthCheck(ISiloStatusOracle status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"silo is {status.CurrentStatus}"));
}
