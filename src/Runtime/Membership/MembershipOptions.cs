namespace HomeServer.Runtime.Membership;

/// <summary>
/// Failure-detection timings. With the defaults a silo that stops answering is declared dead after about
/// ProbeInterval × NumMissedProbesLimit + ProbeTimeout ≈ 8 s on loopback, then views update on the next push.
/// </summary>
public sealed class MembershipOptions
{
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);
    public int NumMissedProbesLimit { get; set; } = 3;
    public int NumVotesForDeathDeclaration { get; set; } = 2;
    public TimeSpan DeathVoteExpiration { get; set; } = TimeSpan.FromMinutes(2);
    public TimeSpan IAmAliveInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan TableRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan DefunctSiloExpiration { get; set; } = TimeSpan.FromDays(1);
    public TimeSpan DefunctSiloCleanupPeriod { get; set; } = TimeSpan.FromHours(1);
}
