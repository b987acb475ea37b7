using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: keeps the Orleans client trying to connect while no silo is up (silos may start after the
/// gateway), and reports ready while the client is connected to at least one silo's gateway.
/// </summary>
internal sealed partial class GatewayClusterClient(SiloLossCallFilter siloLoss, ILogger<GatewayClusterClient> logger)
    : IClusterConnectionStatusObserver, IClientConnectionRetryFilter, IHealthCheck
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private volatile int _gateways;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        LogWaiting(exception.Message);
        await Task.Delay(RetryDelay, cancellationToken);
        return !cancellationToken.IsCancellationRequested;
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        _gateways = currentNumberOfGateways;
        if (currentNumberOfGateways < previousNumberOfGateways) siloLoss.OnClusterChanged();
        LogGateways(currentNumberOfGateways);
    }

    public void NotifyClusterConnectionLost()
    {
        _gateways = 0;
        LogLost();
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_gateways > 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not connected to any silo"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway connected to the cluster: {Gateways} silo gateways")]
    private partial void LogGateways(int gateways);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway lost its connection to the cluster")]
    private partial void LogLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway is waiting for an active silo: {Reason}")]
    private partial void LogWaiting(string reason);
}
