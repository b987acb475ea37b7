namespace HomeServer.Grains.Federation.Transport;

/// <summary>
/// Where requests for a server name go (server-server spec, "Resolving server names"): a TCP connection to
/// <see cref="ConnectHost"/> and <see cref="Port"/>, and the <c>Host</c> header <see cref="HostHeader"/>. The TLS
/// certificate must be valid for the host part of <see cref="HostHeader"/>, which is also the SNI name (none for IP
/// literals): the HTTP stack derives both from the <c>Host</c> header.
/// </summary>
/// <param name="ConnectHost">A host name or IP literal (IPv6 in brackets).</param>
public sealed record FederationDestination(string ConnectHost, int Port, string HostHeader)
{
    public Uri BaseUri => new($"https://{ConnectHost}:{Port}/");
}
