using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HomeServer.Grains.Federation.Transport;

/// <summary>
/// The HTTP handler of every outbound federation connection: the SSRF guard on each address connected to, no proxy
/// (it would hide the address), and TLS verified against the system's roots plus the configured extra CAs.
/// </summary>
public static class FederationHttpHandler
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    /// <param name="followRedirects">Only the well-known lookup follows redirects (the spec asks it to).</param>
    public static SocketsHttpHandler Create(FederationTransportOptions options, bool followRedirects = false)
    {
        var extraRoots = LoadCertificates(options.TrustedCaCertificates);
        var allowPrivate = options.AllowPrivateAddresses;
        return new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = followRedirects,
            MaxAutomaticRedirections = 5,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowPrivate, cancellationToken),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => IsTrusted(certificate, chain, errors, extraRoots),
            },
        };
    }

    public static X509Certificate2Collection LoadCertificates(IEnumerable<string> pemFiles)
    {
        var certificates = new X509Certificate2Collection();
        foreach (var path in pemFiles) certificates.ImportFromPemFile(path);
        return certificates;
    }

    /// <summary>
    /// The system's verdict, except that a chain the system does not trust is accepted when it leads to one of
    /// <paramref name="extraRoots"/>; a wrong host name is never accepted.
    /// </summary>
    public static bool IsTrusted(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection extraRoots)
    {
        if (errors == SslPolicyErrors.None) return true;
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || extraRoots.Count == 0 || certificate is null) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(extraRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        if (certificate is X509Certificate2 leaf) return custom.Build(leaf);
        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(copy);
    }

    /// <summary>Resolves the host and connects to the first address that is allowed and answers.</summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, bool allowPrivateAddresses, CancellationToken cancellationToken)
    {
        var host = endPoint.Host.Trim('[', ']');
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(address => OutboundAddressRules.IsAllowed(address, allowPrivateAddresses)).ToList();
        if (allowed.Count == 0) throw new OutboundAddressRefusedException(endPoint.Host);

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                last = exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }
}
