using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// In a gateway process: reads the active silos every second and tells <see cref="SiloLossCallFilter"/> when the set
/// changes (a silo declared dead after a crash, gone after a drain, or joined), since Orleans' client learns of it only
/// through the connections it happens to hold. It tells it again a few seconds later: a call sent while the cluster was
/// changing can still be lost after the first time (a gateway silo that had not yet heard of the death forwarded it to
/// the dead silo), and would otherwise wait for the 30 s response timeout.
/// </summary>
internal sealed partial class ActiveSiloWatch(IClusterClient client, SiloLossCallFilter siloLoss, ILogger<ActiveSiloWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>When, after a change, it is signalled again: membership has settled by then.</summary>
    internal static readonly TimeSpan[] SignalAgainAfter = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<SiloAddress>? active = null;
        var signalAt = new List<DateTimeOffset>();
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (signalAt.RemoveAll(at => at <= DateTimeOffset.UtcNow) > 0) siloLoss.OnClusterChanged();

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
            if (active is not null)
            {
                var lost = active.Where(silo => !now.Contains(silo)).ToList();
                var joined = now.Where(silo => !active.Contains(silo)).ToList();
                if (lost.Count > 0 || joined.Count > 0)
                {
                    LogChanged(Describe(lost), Describe(joined));
                    siloLoss.OnClusterChanged();
                    signalAt.AddRange(SignalAgainAfter.Select(after => DateTimeOffset.UtcNow + after));
                }
            }
            active = [.. now];
        }
    }

    private static string Describe(List<SiloAddress> silos) =>
        silos.Count == 0 ? "none" : string.Join(", ", silos.Select(silo => silo.ToParsableString()));

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Active silos changed (gone: {Lost}; joined: {Joined}); idempotent calls waiting on a lost silo are given up and sent anew")]
    private partial void LogChanged(string lost, string joined);
}
