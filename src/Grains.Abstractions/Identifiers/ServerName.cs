using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace HomeServer.Grains.Identifiers;

/// <summary>
/// A homeserver name: <c>hostname [ ":" port ]</c> where hostname is a DNS name, a dotted-quad
/// IPv4 literal or a bracketed IPv6 literal (spec appendix "Server Name"). Case-sensitive.
/// </summary>
public sealed record ServerName : IParsable<ServerName>
{
    private const int MaxDnsNameLength = 255;

    private ServerName(string value, string host, int? port)
    {
        Value = value;
        Host = host;
        Port = port;
    }

    public string Value { get; }

    /// <summary>The hostname as written; IPv6 literals keep their brackets.</summary>
    public string Host { get; }

    public int? Port { get; }

    public override string ToString() => Value;

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static ServerName Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a valid server name.");

    public static bool TryParse([NotNullWhen(true)] string? s, [MaybeNullWhen(false)] out ServerName result)
    {
        result = null;
        if (string.IsNullOrEmpty(s))
            return false;

        string host;
        string? portText;
        if (s[0] == '[')
        {
            var close = s.IndexOf(']');
            if (close < 0 || !IsIPv6Literal(s.AsSpan(1, close - 1)))
                return false;
            host = s[..(close + 1)];
            var rest = s.AsSpan(close + 1);
            if (rest.IsEmpty)
                portText = null;
            else if (rest[0] == ':')
                portText = rest[1..].ToString();
            else
                return false;
        }
        else
        {
            var colon = s.IndexOf(':');
            host = colon < 0 ? s : s[..colon];
            portText = colon < 0 ? null : s[(colon + 1)..];
            if (!IsIPv4OrDnsName(host))
                return false;
        }

        int? port = null;
        if (portText is not null)
        {
            if (!IsPort(portText))
                return false;
            port = int.Parse(portText, System.Globalization.CultureInfo.InvariantCulture);
        }

        result = new ServerName(s, host, port);
        return true;
    }

    static ServerName IParsable<ServerName>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<ServerName>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out ServerName result) => TryParse(s, out result);

    // port = 1*5DIGIT
    private static bool IsPort(string text) => text.Length is >= 1 and <= 5 && text.All(char.IsAsciiDigit);

    // IPv6address = 2*45IPv6char; the prose also requires a real RFC 3513 address.
    private static bool IsIPv6Literal(ReadOnlySpan<char> text)
    {
        if (text.Length is < 2 or > 45)
            return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c != ':' && c != '.')
                return false;
        }
        return IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static bool IsIPv4OrDnsName(string host)
    {
        if (host.Length is 0 or > MaxDnsNameLength)
            return false;
        foreach (var c in host)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '.')
                return false;
        }
        // A dotted quad is an IPv4 literal, whose parts the spec restricts to 0-255.
        var parts = host.Split('.');
        var looksLikeIPv4 = parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
        return !looksLikeIPv4 || parts.All(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
    }
}
