using System.Net;
using System.Net.Sockets;

namespace HomeServer.Grains.Federation.Transport;

/// <summary>
/// Which addresses federation may connect to: public unicast only, unless
/// <see cref="FederationTransportOptions.AllowPrivateAddresses"/> is set. Another server's name, its well-known answer
/// and its SRV records are remote input, so without this anyone could make the server send requests into its own
/// network (SSRF). The check is on the address actually connected to, after DNS, so a name that later resolves
/// elsewhere gains nothing.
/// </summary>
public static class OutboundAddressRules
{
    private static readonly IPNetwork[] NonPublic =
    [
        // IPv4: "this network", private, carrier-grade NAT, loopback, link-local, IETF protocol assignments,
        // documentation, benchmarking, multicast, reserved and broadcast.
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        // IPv6: unspecified, loopback, NAT64, discard, documentation, unique local, link-local, site-local, multicast.
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("100::/64"),
        IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    public static bool IsAllowed(IPAddress address, bool allowPrivateAddresses)
    {
        // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is the IPv4 address.
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return false;
        return allowPrivateAddresses
               || !NonPublic.Any(network => network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address));
    }
}

/// <summary>A federation request was refused because its destination resolves only to addresses it may not reach.</summary>
public sealed class OutboundAddressRefusedException(string host)
    : Exception($"{host} resolves only to loopback, private or otherwise non-public addresses, which federation may not reach (Federation:AllowPrivateAddresses).");
