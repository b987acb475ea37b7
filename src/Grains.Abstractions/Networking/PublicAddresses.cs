using System.Net;
using System.Net.Sockets;

namespace HomeServer.Grains.Networking;

/// <summary>
/// Which addresses belong to the public internet. Requests the server makes on a remote party's word (URL previews,
/// federation) connect only to these unless configured otherwise, so that nobody can make the server reach into its
/// own network (SSRF).
/// </summary>
public static class PublicAddresses
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

    /// <summary>An IPv4 address written as IPv6 (<c>::ffff:10.0.0.1</c>) as the IPv4 address it is; any other unchanged.</summary>
    public static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Whether the (unmapped) address is an IPv4 or IPv6 address outside every non-public range.</summary>
    public static bool IsPublicUnicast(IPAddress address)
    {
        address = Unmapped(address);
        return IsInternetProtocol(address)
               && !NonPublic.Any(network => network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address));
    }

    public static bool IsInternetProtocol(IPAddress address) =>
        address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
}
