using HomeServer.Runtime.Activation;
using HomeServer.Runtime.Membership;

namespace HomeServer.Runtime.Hosting;

public sealed class SiloOptions
{
    public string SiloName { get; set; } = Environment.MachineName;

    /// <summary>IP address to listen on for silo-to-silo and client traffic; also the address peers use.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>This build's version, carried in the connection hello (diagnostics and mixed-version upgrades).</summary>
    public string BuildVersion { get; set; } = typeof(SiloOptions).Assembly.GetName().Version?.ToString() ?? "0";

    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of a graceful stop; keep it below the orchestrator's grace period.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this many activations per second move away after a view change, so rebalancing does not stall the cluster.</summary>
    public int RebalanceActivationsPerSecond { get; set; } = 2000;

    public CatalogOptions Catalog { get; set; } = new();

    public MembershipOptions Membership { get; set; } = new();
}
