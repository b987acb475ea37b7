using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: reads the active silos every second and tells <see cref="SiloLossCallFilter"/> when one that was
/// active no longer is (declared dead after a crash, or gone after a drain), since Orleans' client learns of it only
/// through the connections it happens to hold.
/// </summary>
internal sealed partial class ActiveSiloWatch(IClusterClient client, SiloLossCallFilter siloLoss, ILogger<ActiveSiloWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<SiloAddress> active = [];
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            SiloAddress[] now;
            try
            {
                // Bounded: a call the answering silo had when it crashed would wait for the 30 s response timeout.
                now = (await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(Period * 2, stoppingToken)).Keys.ToArray();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                continue; // Not connected yet, or the answering silo just went away: ask again next time.
            }
            var lost = active.Where(silo => !now.Contains(silo)).ToList();
            if (lost.Count > 0)
            {
                LogLost(string.Join(", ", lost.Select(silo => silo.ToParsableString())));
                siloLoss.OnSiloLost();
            }
            active = [.. now];
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silos no longer active: {Silos}; waiting idempotent calls are sent again")]
    private partial void LogLost(string silos);
}
