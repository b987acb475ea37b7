using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using HomeServer.Grains.Identifiers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HomeServer.Grains.Federation.Transport;

/// <summary>
/// Turns a server name into where to connect, following the server-server spec's "Resolving server names" in its
/// order: an IP literal; a host name with an explicit port; <c>/.well-known/matrix/server</c> delegation (then the
/// delegated name's IP literal, explicit port, SRV records or 8448); SRV <c>_matrix-fed._tcp</c>, then the deprecated
/// <c>_matrix._tcp</c>; and finally the host name on port 8448.
/// </summary>
/// <remarks>
/// Well-known answers are cached as the spec recommends: for the response's <c>Cache-Control: max-age</c> or
/// <c>Expires</c>, 24 hours without them, never more than 48 hours (and at least 5 minutes, so a server that says
/// <c>no-cache</c> is not asked on every request). Failures are cached for 1 minute, doubling with each failure in a
/// row up to the spec's hour.
/// </remarks>
public sealed class ServerDiscovery(HttpClient wellKnownClient, ISrvResolver srv, TimeProvider time, ILogger<ServerDiscovery>? logger = null)
{
    public const int DefaultPort = 8448;
    public const int MaxWellKnownBytes = 64 * 1024;
    public static readonly TimeSpan DefaultWellKnownCacheTime = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxWellKnownCacheTime = TimeSpan.FromHours(48);
    public static readonly TimeSpan MinWellKnownCacheTime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan FirstFailureCacheTime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxFailureCacheTime = TimeSpan.FromHours(1);
    public static readonly TimeSpan WellKnownTimeout = TimeSpan.FromSeconds(10);

    // The current service name first, then the deprecated one.
    private static readonly string[] SrvServices = ["_matrix-fed._tcp.", "_matrix._tcp."];

    // Server names come from remote input (user ids, notary queries), so the cache is bounded.
    private const int MaxCachedNames = 10_000;

    private readonly ConcurrentDictionary<string, WellKnownEntry> _wellKnown = new(StringComparer.Ordinal);
    private readonly ILogger _logger = logger ?? NullLogger<ServerDiscovery>.Instance;

    /// <exception cref="ArgumentException"><paramref name="serverName"/> is not a valid server name.</exception>
    public async Task<FederationDestination> ResolveAsync(string serverName, CancellationToken cancellationToken)
    {
        if (!ServerName.TryParse(serverName, out var name))
            throw new ArgumentException($"'{serverName}' is not a valid server name.", nameof(serverName));

        // 1. An IP literal: that address, the given port or 8448.
        if (IsIpLiteral(name.Host)) return new FederationDestination(name.Host, name.Port ?? DefaultPort, name.Value);
        // 2. A host name with an explicit port.
        if (name.Port is { } port) return new FederationDestination(name.Host, port, name.Value);

        // 3. Delegation through /.well-known/matrix/server.
        if (await WellKnownAsync(name.Host, cancellationToken) is { } delegated)
        {
            if (IsIpLiteral(delegated.Host))
                return new FederationDestination(delegated.Host, delegated.Port ?? DefaultPort, delegated.Value);
            if (delegated.Port is { } delegatedPort)
                return new FederationDestination(delegated.Host, delegatedPort, delegated.Value);
            return await SrvOrDefaultAsync(delegated.Host, cancellationToken);
        }

        // 4-6. SRV records of the server name itself, else port 8448.
        return await SrvOrDefaultAsync(name.Host, cancellationToken);
    }

    /// <summary>True for an IPv4 dotted quad or a bracketed IPv6 address (a DNS name of digits is not one).</summary>
    public static bool IsIpLiteral(string host) =>
        host.StartsWith('[')
        || (host.Split('.') is { Length: 4 } parts && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)) && IPAddress.TryParse(host, out _));

    private async Task<FederationDestination> SrvOrDefaultAsync(string host, CancellationToken cancellationToken)
    {
        foreach (var service in SrvServices)
        {
            var records = await srv.ResolveAsync(service + host, cancellationToken);
            if (PickSrvTarget(records) is { } target)
                return new FederationDestination(BracketIfIPv6(target.Host), target.Port, host);
        }
        return new FederationDestination(host, DefaultPort, host);
    }

    /// <summary>
    /// RFC 2782: the lowest priority, and among those a random pick weighted by weight. A single record with target
    /// "." (empty here) means the service is decidedly not available there.
    /// </summary>
    public static SrvTarget? PickSrvTarget(IReadOnlyList<SrvTarget> records)
    {
        var usable = records.Where(r => r.Host.Length > 0 && r.Port > 0).ToList();
        if (usable.Count == 0) return null;
        var lowest = usable.Min(r => r.Priority);
        var candidates = usable.Where(r => r.Priority == lowest).ToList();
        var total = candidates.Sum(r => r.Weight);
        if (total == 0) return candidates[Random.Shared.Next(candidates.Count)];
        var pick = Random.Shared.Next(total + 1);
        foreach (var candidate in candidates)
        {
            pick -= candidate.Weight;
            if (pick <= 0) return candidate;
        }
        return candidates[^1];
    }

    private static string BracketIfIPv6(string host) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;

    private async Task<ServerName?> WellKnownAsync(string host, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_wellKnown.TryGetValue(host, out var cached) && cached.ExpiresAt > now) return cached.Delegated;

        var (delegated, cacheFor) = await FetchWellKnownAsync(host, cancellationToken);
        var failures = delegated is null ? (cached?.FailuresInARow ?? 0) + 1 : 0;
        if (delegated is null)
        {
            var backOff = FirstFailureCacheTime * Math.Pow(2, Math.Min(failures - 1, 10));
            cacheFor = backOff < MaxFailureCacheTime ? backOff : MaxFailureCacheTime;
        }
        if (_wellKnown.Count >= MaxCachedNames) EvictExpired(now);
        _wellKnown[host] = new WellKnownEntry(delegated, now + cacheFor, failures);
        return delegated;
    }

    /// <summary>The delegated server name and how long to keep it, or null when there is no usable answer.</summary>
    private async Task<(ServerName? Delegated, TimeSpan CacheFor)> FetchWellKnownAsync(string host, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(WellKnownTimeout);
        try
        {
            using var response = await wellKnownClient.GetAsync(
                new Uri($"https://{host}/.well-known/matrix/server"), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK) return (null, TimeSpan.Zero);
            var body = await BoundedContent.ReadAsync(response.Content, MaxWellKnownBytes, timeout.Token);
            // The spec: assume JSON whatever the Content-Type.
            return (ParseWellKnown(body), CacheTimeOf(response));
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or ResponseTooLargeException
                                              && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("No /.well-known/matrix/server from {Host}: {Message}", host, exception.Message);
            return (null, TimeSpan.Zero);
        }
    }

    /// <summary>The <c>m.server</c> of a well-known body when it is a valid server name, else null.</summary>
    public static ServerName? ParseWellKnown(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("m.server", out var server)
                   && server.ValueKind == JsonValueKind.String
                   && ServerName.TryParse(server.GetString(), out var name)
                ? name
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private TimeSpan CacheTimeOf(HttpResponseMessage response)
    {
        TimeSpan? given = response.Headers.CacheControl switch
        {
            { NoStore: true } or { NoCache: true } => TimeSpan.Zero,
            { MaxAge: { } maxAge } => maxAge,
            _ => response.Content.Headers.Expires is { } expires ? (TimeSpan?)(expires - time.GetUtcNow()) : null,
        };
        var cacheFor = given ?? DefaultWellKnownCacheTime;
        if (cacheFor < MinWellKnownCacheTime) return MinWellKnownCacheTime;
        return cacheFor > MaxWellKnownCacheTime ? MaxWellKnownCacheTime : cacheFor;
    }

    private void EvictExpired(DateTimeOffset now)
    {
        foreach (var (host, entry) in _wellKnown)
        {
            if (entry.ExpiresAt <= now) _wellKnown.TryRemove(host, out _);
        }
        if (_wellKnown.Count >= MaxCachedNames) _wellKnown.Clear();
    }

    private sealed record WellKnownEntry(ServerName? Delegated, DateTimeOffset ExpiresAt, int FailuresInARow);
}
