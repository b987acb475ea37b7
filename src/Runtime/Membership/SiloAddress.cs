using System.Globalization;
using System.Net;

namespace HomeServer.Runtime.Membership;

/// <summary>
/// Identity of one silo process: the endpoint it listens on plus a generation that is new at every start,
/// so a restarted silo is a different silo.
/// </summary>
public sealed record SiloAddress(string Host, int Port, long Generation)
{
    public IPEndPoint EndPoint => new(IPAddress.Parse(Host), Port);

    public bool SameEndpoint(SiloAddress other) => Host == other.Host && Port == other.Port;

    public override string ToString() => $"{Host}:{Port}@{Generation}";

    public static SiloAddress Parse(string text)
    {
        var at = text.LastIndexOf('@');
        var colon = at < 0 ? -1 : text.LastIndexOf(':', at);
        if (at < 0 || colon < 0) throw new FormatException($"'{text}' is not a silo address (host:port@generation).");
        return new SiloAddress(
            text[..colon],
            int.Parse(text[(colon + 1)..at], CultureInfo.InvariantCulture),
            long.Parse(text[(at + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>A generation for a silo starting now: milliseconds since the Unix epoch, increasing across restarts.</summary>
    public static long NewGeneration() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
