using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Runtime.Tests;

/// <summary>
/// While the membership table cannot be read or written (PostgreSQL down), silos and clients keep their last
/// view and keep serving; nobody is voted dead or stops itself, and everything resumes when the table is back.
/// </summary>
public sealed class MembershipTableOutageTests
{
    [Fact]
    public async Task While_the_table_is_unreachable_every_silo_keeps_its_view_serves_calls_and_nobody_is_declared_dead()
    {
        var table = new InterruptibleTable(new InMemoryMembershipTable());
        var store = new SharedStore();
        await using var cluster = await TestCluster.StartAsync(3,
            grains => grains.AddGrain<ICounterGrain, CounterGrain>().AddGrain<IProbeGrain, ProbeGrain>(),
            table: table,
            services: services => services.AddSingleton(store).AddSingleton(new ProbeLog()));
        var declaredDead = 0;
        foreach (var silo in cluster.Silos) silo.DeclaredDead += () => Interlocked.Increment(ref declaredDead);
        var before = await table.ReadAllAsync(CancellationToken.None);

        table.Reachable = false;
        // Many probe intervals (200 ms), heartbeats and refreshes (1 s) go by with every table call failing.
        var until = DateTime.UtcNow.AddSeconds(3);
        for (var i = 0; DateTime.UtcNow < until; i++)
        {
            Assert.Equal(1, await cluster.Client.GetGrain<ICounterGrain>($"outage{i}").IncrementAsync());
            await Task.Delay(50);
        }
        Assert.All(cluster.Silos, silo => Assert.Equal(SiloStatus.Active, silo.Status));
        Assert.All(cluster.Silos, silo => Assert.Equal(before.Version, silo.Membership.Current.Version));
        Assert.True(table.FailedCalls > 0, "the silos never tried the table");

        table.Reachable = true;
        await cluster.WaitForLivenessToStabilizeAsync();
        var after = await table.ReadAllAsync(CancellationToken.None);
        Assert.Equal(0, declaredDead);
        Assert.Equal(before.Version, after.Version); // no status change, no vote was written
        Assert.All(after.Entries, entry => Assert.Equal(SiloStatus.Active, entry.Status));
        Assert.All(after.Entries, entry => Assert.Empty(entry.SuspectVotes));
    }

    /// <summary>A table whose every call fails (as with PostgreSQL stopped) while <see cref="Reachable"/> is false.</summary>
    private sealed class InterruptibleTable(IMembershipTable inner) : IMembershipTable
    {
        private int _failedCalls;
        private volatile bool _reachable = true;

        public bool Reachable
        {
            get => _reachable;
            set => _reachable = value;
        }

        public int FailedCalls => Volatile.Read(ref _failedCalls);

        public Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken) => Guard(() => inner.ReadAllAsync(cancellationToken));

        public Task<bool> TryInsertAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken) =>
            Guard(() => inner.TryInsertAsync(entry, expectedVersion, cancellationToken));

        public Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken) =>
            Guard(() => inner.TryUpdateAsync(entry, expectedVersion, cancellationToken));

        public Task HeartbeatAsync(SiloAddress address, DateTimeOffset now, CancellationToken cancellationToken) =>
            Guard(async () => { await inner.HeartbeatAsync(address, now, cancellationToken); return true; });

        public Task<int> CleanupDefunctAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
            Guard(() => inner.CleanupDefunctAsync(cutoff, cancellationToken));

        private Task<T> Guard<T>(Func<Task<T>> call)
        {
            if (Reachable) return call();
            Interlocked.Increment(ref _failedCalls);
            return Task.FromException<T>(new IOException("The membership table cannot be reached."));
        }
    }
}
