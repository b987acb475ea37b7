namespace HomeServer.Runtime.Membership;

/// <summary>A vote by <paramref name="Voter"/> that the silo is dead, cast at <paramref name="At"/>.</summary>
public sealed record SuspectVote(SiloAddress Voter, DateTimeOffset At);

/// <summary>One row of the membership table.</summary>
public sealed record MembershipEntry(
    SiloAddress Address,
    string SiloName,
    SiloStatus Status,
    DateTimeOffset StartTime,
    DateTimeOffset IAmAliveTime,
    IReadOnlyList<SuspectVote> SuspectVotes)
{
    /// <summary>Whether the silo serves as a gateway for clients (every silo does today; kept for the table's shape).</summary>
    public bool IsGateway { get; init; } = true;
}

/// <summary>A consistent read of the whole table: its rows and the table version they were read at.</summary>
public sealed record MembershipSnapshot(IReadOnlyList<MembershipEntry> Entries, long Version)
{
    public static MembershipSnapshot Empty { get; } = new([], 0);

    public MembershipEntry? Find(SiloAddress address) => Entries.FirstOrDefault(e => e.Address == address);
}
