using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace HomeServer.Gateway.RateLimiting;

/// <summary>Which peers may name the client in <c>X-Forwarded-For</c>: exactly the configured proxies, no loopback default.</summary>
internal static class TrustedProxies
{
    public static bool TryParse(string? value, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(value)) return false;
        value = value.Trim();
        if (value.Contains('/')) return IPNetwork.TryParse(value, out network);
        if (!IPAddress.TryParse(value, out var address)) return false;
        network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
        return true;
    }

    public static void Configure(ForwardedHeadersOptions forwarded, IEnumerable<string> proxies)
    {
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        // Every trusted proxy in the chain is skipped; the first address not trusted is the client.
        forwarded.ForwardLimit = null;
        foreach (var proxy in proxies)
        {
            if (TryParse(proxy, out var network)) forwarded.KnownIPNetworks.Add(network);
        }
        // With no known proxies or networks at all, the middleware would believe the header from anyone.
        forwarded.ForwardedHeaders = forwarded.KnownIPNetworks.Count == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor;
    }
}
