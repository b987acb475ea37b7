using System.Net;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var failures = new List<string>();
        if (options.Role == ClusterRole.Gateway && options.Membership != MembershipKind.Postgres)
            failures.Add("Cluster:Role=gateway needs Cluster:Membership=postgres: a gateway finds the silos in the membership table.");
        if (options.Membership == MembershipKind.Postgres && string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add("Cluster:Membership=postgres needs Cluster:ConnectionString (or Storage:Kind=postgres with its connection string).");
        if (!IPAddress.TryParse(options.SiloHost, out _))
            failures.Add($"Cluster:SiloHost '{options.SiloHost}' is not an IP address.");
        if (options.SiloPort is < 1 or > 65535)
            failures.Add($"Cluster:SiloPort {options.SiloPort} is not a TCP port.");
        if (options.GatewayPort is < 1 or > 65535)
            failures.Add($"Cluster:GatewayPort {options.GatewayPort} is not a TCP port.");
        if (options.SiloPort is { } siloPort && siloPort == options.GatewayPort)
            failures.Add($"Cluster:SiloPort and Cluster:GatewayPort must differ (both {siloPort}).");
        if (string.IsNullOrWhiteSpace(options.ClusterId))
            failures.Add("Cluster:ClusterId must not be empty.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
