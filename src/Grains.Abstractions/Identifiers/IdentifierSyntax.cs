using System.Text;

namespace HomeServer.Grains.Identifiers;

/// <summary>Shared grammar of sigil identifiers: <c>&amp;localpart:server_name</c>, at most 255 bytes.</summary>
internal static class IdentifierSyntax
{
    public const int MaxLengthBytes = 255;

    /// <summary>
    /// Splits <paramref name="value"/> at the first ':' (a localpart never contains one; the server
    /// name may, for its port) and checks the sigil, the total length and the server name.
    /// </summary>
    public static bool TrySplit(string? value, char sigil, out string localpart, out ServerName server)
    {
        localpart = "";
        server = null!;
        if (string.IsNullOrEmpty(value) || value[0] != sigil)
            return false;
        if (!IsWellFormedUtf16(value) || Encoding.UTF8.GetByteCount(value) > MaxLengthBytes)
            return false;
        var colon = value.IndexOf(':');
        if (colon < 0)
            return false;
        if (!ServerName.TryParse(value[(colon + 1)..], out var parsed))
            return false;
        localpart = value[1..colon];
        server = parsed;
        return true;
    }

    /// <summary>
    /// Opaque localparts may hold any code point except ':' and NUL. NUL is refused even where the
    /// spec is silent (room aliases) because text columns in storage cannot hold it.
    /// </summary>
    public static bool IsOpaqueLocalpart(string localpart) =>
        !localpart.Contains(':') && !localpart.Contains('\0');

    /// <summary>True when the string has no unpaired surrogate, i.e. it can be encoded as UTF-8.</summary>
    public static bool IsWellFormedUtf16(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                    return false;
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }
        return true;
    }
}
