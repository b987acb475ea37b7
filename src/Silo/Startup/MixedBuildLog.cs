using HomeServer.Grains.Cluster;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>
/// During a rolling upgrade two builds run side by side: each silo says in its log which peers run another build than
/// its own, once per peer, so an operator can follow the upgrade and spot a silo left behind.
/// </summary>
internal sealed partial class MixedBuildLog(
    IClusterMembershipService membership, ILocalSiloDetails self, IGrainFactory grains, SiloBuild build, ILogger<MixedBuildLog> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<SiloAddress> _checked = [];
    private Task _watching = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(MixedBuildLog),
            ServiceLifecycleStage.Active,
            _ =>
            {
                _watching = Task.Run(WatchAsync);
                return Task.CompletedTask;
            },
            async _ =>
            {
                await _stopping.CancelAsync();
                await _watching;
            });

    private async Task WatchAsync()
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                foreach (var member in snapshot.Members.Values)
                {
                    if (member.Status != SiloStatus.Active || member.SiloAddress.Equals(self.SiloAddress) || !_checked.Add(member.SiloAddress)) continue;
                    await CompareAsync(member.SiloAddress);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task CompareAsync(SiloAddress peer)
    {
        try
        {
            var version = await grains.GetGrain<ISiloControlGrain>(SiloKeyedPlacement.KeyOf(peer)).GetBuildVersionAsync();
            if (version != build.Version) LogMixed(peer.ToParsableString(), version, build.Version);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnknown(peer.ToParsableString(), e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Peer} runs build {PeerVersion}, this process {Version}")]
    private partial void LogMixed(string peer, string peerVersion, string version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not ask silo {Peer} for its build: {Reason}")]
    private partial void LogUnknown(string peer, string reason);
}
