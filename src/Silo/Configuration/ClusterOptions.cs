namespace HomeServer.Silo.Configuration;

/// <summary>What this process is in the cluster.</summary>
public enum ClusterRole
{
    /// <summary>Hosts grains, and serves the Client-Server API from the same process.</summary>
    Silo,

    /// <summary>Serves the Client-Server API only, calling grains on the silos it finds in the membership table.</summary>
    Gateway,
}

public enum MembershipKind
{
    /// <summary>A single-node cluster on loopback (Orleans' localhost clustering), kept in memory.</summary>
    InMemory,

    /// <summary>The Orleans membership table in PostgreSQL (ADO.NET clustering), shared by every silo and gateway of the cluster.</summary>
    Postgres,
}

/// <summary>Bound from the <c>Cluster</c> section.</summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Cluster";

    public ClusterRole Role { get; set; } = ClusterRole.Silo;

    public MembershipKind Membership { get; set; } = MembershipKind.InMemory;

    /// <summary>PostgreSQL holding the membership table; defaults to <c>Storage:ConnectionString</c> when that is PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Separates clusters that share one database.</summary>
    public string ClusterId { get; set; } = "homeserver";

    /// <summary>The address other silos and gateways reach this silo at (an IP address).</summary>
    public string SiloHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// TCP port for silo-to-silo traffic. Default: <see cref="DefaultSiloPort"/> in a cluster; on a single node a free
    /// port, so that two single nodes on one machine never collide.
    /// </summary>
    public int? SiloPort { get; set; }

    /// <summary>
    /// TCP port where gateway processes (Orleans clients) reach this silo. Default: <see cref="DefaultGatewayPort"/> in a
    /// cluster; a single node opens none (its gateway runs in process).
    /// </summary>
    public int? GatewayPort { get; set; }

    /// <summary>This build's version, reported by <c>/_homeserver/silo</c>; defaults to the assembly version.</summary>
    public string? BuildVersion { get; set; }

    public const int DefaultSiloPort = 11111;

    public const int DefaultGatewayPort = 30000;
}
