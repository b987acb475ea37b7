using System.Net;
using HomeServer.Grains.Networking;

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
    public static bool IsAllowed(IPAddress address, bool allowPrivateAddresses) =>
        allowPrivateAddresses ? PublicAddresses.IsInternetProtocol(PublicAddresses.Unmapped(address)) : PublicAddresses.IsPublicUnicast(address);
}

/// <summary>A federation request was refused because its destination resolves only to addresses it may not reach.</summary>
public sealed class OutboundAddressRefusedException(string host)
    : Exception($"{host} resolves only to loopback, private or otherwise non-public addresses, which federation may not reach (Federation:AllowPrivateAddresses).");
