using System.Collections.Concurrent;
using System.Net;
using HomeServer.Gateway.RateLimiting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace HomeServer.Gateway.Limits;

/// <summary>
/// Kestrel connection middleware that lets one IP address hold at most a given number of open connections, so a
/// single client cannot use up the process's connections or file handles (Kestrel's own MaxConcurrentConnections is
/// one global count). A connection over the limit is closed before any HTTP is read: there is no request yet to answer
/// with a Matrix error, and a client that opens that many connections is not a well-behaved one. The trusted proxies of
/// the rate limits (<c>RateLimits:TrustedProxies</c>) are not limited: each of their connections carries another client.
/// </summary>
public sealed partial class ConnectionsPerIpLimit(int maxPerIp, ILogger<ConnectionsPerIpLimit> logger, IEnumerable<string>? trustedProxies = null)
{
    private readonly ConcurrentDictionary<IPAddress, int> _open = new();
    private readonly IPNetwork[] _trusted = [.. (trustedProxies ?? []).Select(TrustedNetwork).OfType<IPNetwork>()];

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (maxPerIp <= 0 || connection.RemoteEndPoint is not IPEndPoint { Address: var address })
        {
            await next(connection);
            return;
        }

        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IsTrustedProxy(address))
        {
            await next(connection);
            return;
        }

        if (_open.AddOrUpdate(address, 1, (_, count) => count + 1) > maxPerIp)
        {
            Release(address);
            LogRefused(address, maxPerIp);
            connection.Abort(new ConnectionAbortedException("Too many connections from this address."));
            return;
        }

        try
        {
            await next(connection);
        }
        finally
        {
            Release(address);
        }
    }

    /// <summary>Open connections of <paramref name="address"/> now; for tests and diagnostics.</summary>
    public int OpenConnections(IPAddress address) => _open.TryGetValue(address, out var count) ? count : 0;

    private bool IsTrustedProxy(IPAddress address)
    {
        foreach (var network in _trusted)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    private static IPNetwork? TrustedNetwork(string proxy) => TrustedProxies.TryParse(proxy, out var network) ? network : null;

    private void Release(IPAddress address)
    {
        while (true)
        {
            var count = _open[address];
            if (count == 1 ? _open.TryRemove(new KeyValuePair<IPAddress, int>(address, 1)) : _open.TryUpdate(address, count - 1, count)) return;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed a connection from {Address}: it already has {Limit} open")]
    private partial void LogRefused(IPAddress address, int limit);
}

public static class ConnectionsPerIpLimitListenOptionsExtensions
{
    /// <summary>Puts <paramref name="limit"/> in front of every connection this endpoint accepts.</summary>
    public static ListenOptions UseConnectionsPerIpLimit(this ListenOptions listenOptions, ConnectionsPerIpLimit limit) =>
        (ListenOptions)listenOptions.Use(next => connection => limit.OnConnectionAsync(connection, next));
}
