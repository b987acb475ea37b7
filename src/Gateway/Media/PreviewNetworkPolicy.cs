using System.Net;
using HomeServer.Grains.Networking;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Media;

/// <summary>
/// Which addresses URL previews may connect to: public unicast only, unless an address is in
/// <see cref="UrlPreviewOptions.AllowedNetworks"/>. Keeps previews from reaching the server's own network (SSRF).
/// </summary>
public sealed class PreviewNetworkPolicy
{
    private readonly IPNetwork[] _allowed;

    public PreviewNetworkPolicy(IOptions<MediaOptions> options)
    {
        _allowed = options.Value.UrlPreview.AllowedNetworks.Select(IPNetwork.Parse).ToArray();
    }

    public bool IsAllowed(IPAddress address)
    {
        address = PublicAddresses.Unmapped(address);
        if (_allowed.Any(network => network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address))) return true;
        return PublicAddresses.IsPublicUnicast(address);
    }
}

/// <summary>A preview was refused because the host resolves to an address previews may not reach.</summary>
public sealed class PreviewAddressRefusedException(string host) : Exception($"{host} resolves to an address URL previews may not reach.");
