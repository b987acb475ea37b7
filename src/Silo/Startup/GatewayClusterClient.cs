using HomeServer.Runtime.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: connects the cluster client in the background (silos may start after the gateway) and
/// reports ready once it sees an Active silo.
/// </summary>
internal sealed partial class GatewayClusterClient(ClusterClient client, ILogger<GatewayClusterClient> logger) : BackgroundService, IHealthCheck
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await client.ConnectAsync(TimeSpan.FromSeconds(30), stoppingToken);
                LogConnected(client.Membership.Current.ActiveSilos.Count);
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogWaiting(exception.Message);
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(client.Membership.Current.ActiveSilos.Count > 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("no active silo"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway connected to the cluster: {Silos} active silos")]
    private partial void LogConnected(int silos);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway is waiting for an active silo: {Reason}")]
    private partial void LogWaiting(string reason);
}
