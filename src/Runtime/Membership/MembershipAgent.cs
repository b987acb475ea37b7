using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Membership;

/// <summary>
/// A silo's part in membership: joins (Joining → Active), heartbeats, probes its peers and votes dead the ones
/// that stop answering, writes its own ShuttingDown and Dead, and stops its silo if it sees itself declared Dead.
/// Every status write is a compare-and-swap on the table version, retried on conflict.
/// </summary>
public sealed class MembershipAgent : ClusterViewSource
{
    private readonly SiloAddress _self;
    private readonly string _siloName;
    private readonly MembershipOptions _options;
    private readonly Func<SiloAddress, TimeSpan, CancellationToken, Task> _ping;
    private readonly Action<ClusterView> _notifyPeers;
    private readonly Action _declaredDead;
    private readonly Dictionary<SiloAddress, int> _missedProbes = new();
    private readonly List<Task> _loops = [];
    private volatile bool _leaving;

    public MembershipAgent(IMembershipTable table, SiloAddress self, string siloName, MembershipOptions options,
        Func<SiloAddress, TimeSpan, CancellationToken, Task> ping, Action<ClusterView> notifyPeers, Action declaredDead, ILogger logger)
        : base(table, logger)
    {
        _self = self;
        _siloName = siloName;
        _options = options;
        _ping = ping;
        _notifyPeers = notifyPeers;
        _declaredDead = declaredDead;
    }

    public SiloStatus Status => Current.StatusOf(_self);

    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        var snapshot = await Table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        foreach (var older in snapshot.Entries.Where(e => e.Address.SameEndpoint(_self) && e.Address.Generation < _self.Generation && e.Status != SiloStatus.Dead))
        {
            Logger.LogInformation("Declaring {Old}, an earlier generation on this endpoint, dead", older.Address);
            await WriteAsync(older.Address, e => e with { Status = SiloStatus.Dead }, cancellationToken).ConfigureAwait(false);
        }
        var newer = snapshot.Entries.FirstOrDefault(e => e.Address.SameEndpoint(_self) && e.Address.Generation > _self.Generation);
        if (newer is not null) throw new InvalidOperationException($"A newer generation {newer.Address} already runs on this endpoint.");

        var now = DateTimeOffset.UtcNow;
        var entry = new MembershipEntry(_self, _siloName, SiloStatus.Joining, now, now, []);
        while (true)
        {
            snapshot = await Table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            if (await Table.TryInsertAsync(entry, snapshot.Version, cancellationToken).ConfigureAwait(false)) break;
        }

        // Peers must be able to reach us before we are Active, or they would vote us dead at once.
        foreach (var peer in snapshot.Entries.Where(e => e.Status == SiloStatus.Active && e.Address != _self))
        {
            try
            {
                await _ping(peer.Address, _options.ProbeTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Logger.LogInformation("Active peer {Peer} did not answer while joining; failure detection will judge it", peer.Address);
            }
        }
        await SetStatusAsync(SiloStatus.Active, cancellationToken).ConfigureAwait(false);

        _loops.Add(LoopAsync(_options.IAmAliveInterval, ct => Table.HeartbeatAsync(_self, DateTimeOffset.UtcNow, ct)));
        _loops.Add(LoopAsync(_options.ProbeInterval, ProbePeersAsync));
        _loops.Add(LoopAsync(_options.DefunctSiloCleanupPeriod,
            ct => Table.CleanupDefunctAsync(DateTimeOffset.UtcNow - _options.DefunctSiloExpiration, ct)));
        StartPeriodicRefresh(_options.TableRefreshInterval);
    }

    /// <summary>Writes this silo's status and tells peers to re-read the table.</summary>
    public Task SetStatusAsync(SiloStatus status, CancellationToken cancellationToken)
    {
        if (status is SiloStatus.ShuttingDown or SiloStatus.Dead) _leaving = true;
        return WriteAsync(_self, e => e.Status == SiloStatus.Dead ? null : e with { Status = status }, cancellationToken);
    }

    private async Task WriteAsync(SiloAddress target, Func<MembershipEntry, MembershipEntry?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var snapshot = await Table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            var entry = snapshot.Find(target);
            var updated = entry is null ? null : change(entry);
            if (updated is null)
            {
                Adopt(snapshot);
                return;
            }
            if (await Table.TryUpdateAsync(updated, snapshot.Version, cancellationToken).ConfigureAwait(false))
            {
                var view = await RefreshAsync(cancellationToken).ConfigureAwait(false);
                _notifyPeers(view);
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 10 << Math.Min(attempt, 6)) * Random.Shared.NextDouble()), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private async Task ProbePeersAsync(CancellationToken cancellationToken)
    {
        var peers = Current.Snapshot.Entries
            .Where(e => e.Address != _self && e.Status is SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Joining)
            .Select(e => e.Address)
            .ToArray();
        var probes = peers.Select(async peer =>
        {
            try
            {
                await _ping(peer, _options.ProbeTimeout, cancellationToken).ConfigureAwait(false);
                return (peer, ok: true);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return (peer, ok: false);
            }
        });
        foreach (var (peer, ok) in await Task.WhenAll(probes).ConfigureAwait(false))
        {
            int missed;
            lock (_missedProbes)
            {
                missed = ok ? 0 : _missedProbes.GetValueOrDefault(peer) + 1;
                _missedProbes[peer] = missed;
            }
            if (missed >= _options.NumMissedProbesLimit)
            {
                Logger.LogWarning("Silo {Peer} missed {Missed} probes; voting it dead", peer, missed);
                await VoteDeadAsync(peer, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task VoteDeadAsync(SiloAddress suspect, CancellationToken cancellationToken) =>
        WriteAsync(suspect, entry =>
        {
            if (entry.Status == SiloStatus.Dead) return null;
            var now = DateTimeOffset.UtcNow;
            var votes = entry.SuspectVotes
                .Where(v => v.Voter != _self && now - v.At < _options.DeathVoteExpiration)
                .Append(new SuspectVote(_self, now))
                .ToList();
            var active = Current.Snapshot.Entries.Count(e => e.Status == SiloStatus.Active);
            var needed = Math.Max(1, Math.Min(_options.NumVotesForDeathDeclaration, (active + 1) / 2));
            if (votes.Count >= needed)
            {
                Logger.LogWarning("Declaring silo {Suspect} dead ({Votes} votes)", suspect, votes.Count);
                return entry with { Status = SiloStatus.Dead, SuspectVotes = votes };
            }
            return entry with { SuspectVotes = votes };
        }, cancellationToken);

    protected override void OnViewChanged(ClusterView view)
    {
        lock (_missedProbes)
        {
            foreach (var gone in _missedProbes.Keys.Where(s => view.StatusOf(s) is SiloStatus.Dead or SiloStatus.None).ToList())
                _missedProbes.Remove(gone);
        }
        if (view.StatusOf(_self) == SiloStatus.Dead && !_leaving && !Stopping.IsCancellationRequested)
        {
            Logger.LogError("This silo {Self} was declared dead by its peers; stopping", _self);
            _declaredDead();
        }
    }

    private async Task LoopAsync(TimeSpan period, Func<CancellationToken, Task> work)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(Stopping).ConfigureAwait(false))
            {
                try
                {
                    await work(Stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.LogWarning(ex, "Membership work failed; will retry");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }
}
