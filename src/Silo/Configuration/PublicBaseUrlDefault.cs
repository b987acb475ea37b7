using Microsoft.AspNetCore.Http;

namespace HomeServer.Silo.Configuration;

public static class PublicBaseUrlDefault
{
    /// <summary>
    /// The base URL clients are told to use when <c>PublicBaseUrl</c> is not set: scheme, host and port of
    /// the first listen URL, with the server name's host in place of a wildcard such as 0.0.0.0.
    /// Null when the first listen URL is a socket path, which gives clients nothing to connect to.
    /// </summary>
    public static string? From(IReadOnlyList<BindingAddress> listenUrls, string serverName)
    {
        if (listenUrls.Count == 0 || listenUrls[0] is { IsUnixPipe: true } or { IsNamedPipe: true })
        {
            return null;
        }

        var first = listenUrls[0];
        var host = ListenUrls.IsWildcard(first) ? HostOf(serverName) : first.Host;
        return new UriBuilder(first.Scheme, host, first.Port).Uri.GetLeftPart(UriPartial.Authority);
    }

    private static string HostOf(string serverName) =>
        serverName.StartsWith('[')
            ? serverName[..(serverName.IndexOf(']') + 1)]
            : serverName.Split(':')[0];
}
