using System.Net;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Silo.Configuration;

public static class ListenUrls
{
    /// <summary>Parses a semicolon-separated list the way Kestrel does; throws <see cref="FormatException"/>.</summary>
    public static IReadOnlyList<BindingAddress> Parse(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(BindingAddress.Parse)
            .ToArray();

    /// <summary>True when only this machine can connect: <c>localhost</c>, 127.0.0.0/8 or [::1].</summary>
    public static bool IsLoopback(BindingAddress address) =>
        !address.IsUnixPipe
        && !address.IsNamedPipe
        && (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(address.Host, out var ip) && IPAddress.IsLoopback(ip)));

    /// <summary>True for the hosts that make Kestrel listen on every interface.</summary>
    public static bool IsWildcard(BindingAddress address) =>
        address.Host is "*" or "+"
        || (IPAddress.TryParse(address.Host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
}
