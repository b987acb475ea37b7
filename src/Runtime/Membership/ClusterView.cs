namespace HomeServer.Runtime.Membership;

/// <summary>
/// What one silo or client currently believes about the cluster, at a table version. Views only ever move to
/// higher versions. Placement uses <see cref="ActiveSilos"/>.
/// </summary>
public sealed class ClusterView
{
    public ClusterView(MembershipSnapshot snapshot)
    {
        Snapshot = snapshot;
        ActiveSilos = snapshot.Entries.Where(e => e.Status == SiloStatus.Active).Select(e => e.Address)
            .OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
    }

    public static ClusterView Empty { get; } = new(MembershipSnapshot.Empty);

    public MembershipSnapshot Snapshot { get; }

    public long Version => Snapshot.Version;

    public IReadOnlyList<SiloAddress> ActiveSilos { get; }

    public SiloStatus StatusOf(SiloAddress address) => Snapshot.Find(address)?.Status ?? SiloStatus.None;
}
