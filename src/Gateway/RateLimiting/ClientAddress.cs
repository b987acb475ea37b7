using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.RateLimiting;

/// <summary>The key of the per-address limits: the client's IPv4 address, or the /64 network of an IPv6 one.</summary>
internal static class ClientAddress
{
    public static string KeyOf(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        // One IPv6 subscriber usually holds a whole /64, so single addresses would give one client endless buckets.
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? Network64(address) : address.ToString();
    }

    private static string Network64(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
