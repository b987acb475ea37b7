using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace HomeServer.Grains.Federation.Signing;

/// <summary>
/// One <c>Authorization: X-Matrix …</c> header (server-server spec, "Request Authentication"): the scheme, one or more
/// spaces, then comma-separated <c>name=value</c> parameters with optional spaces and tabs around the commas. Names are
/// case-insensitive and unordered; values are tokens or quoted strings with backslash escapes, and for older servers a
/// colon is accepted in an unquoted value. Unknown parameters are ignored.
/// </summary>
/// <param name="Destination">Null when the sender left it out (older servers); the receiver then assumes itself.</param>
public sealed record XMatrixAuthorization(string Origin, string? Destination, string Key, string Signature)
{
    public const string Scheme = "X-Matrix";

    /// <summary>The header value as senders should write it: one space, lower-case names, every value quoted.</summary>
    public string Format() =>
        $"{Scheme} origin={Quote(Origin)}{(Destination is null ? "" : ",destination=" + Quote(Destination))},key={Quote(Key)},sig={Quote(Signature)}";

    /// <summary>True when <paramref name="header"/> uses the X-Matrix scheme at all (whether or not it parses).</summary>
    public static bool HasScheme(string header) =>
        header.Length > Scheme.Length && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && header[Scheme.Length] == ' ';

    public static bool TryParse(string header, [NotNullWhen(true)] out XMatrixAuthorization? result)
    {
        result = null;
        if (!HasScheme(header)) return false;
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = header.AsSpan(Scheme.Length);
        var position = SkipWhitespace(text, 0);
        while (true)
        {
            var equals = text[position..].IndexOf('=');
            if (equals <= 0) return false;
            var name = text.Slice(position, equals).ToString();
            if (!name.All(IsTokenChar)) return false;
            position += equals + 1;
            string value;
            if (position < text.Length && text[position] == '"')
            {
                if (!TryReadQuoted(text, ref position, out value)) return false;
            }
            else
            {
                var start = position;
                while (position < text.Length && (IsTokenChar(text[position]) || text[position] == ':')) position++;
                if (position == start) return false;
                value = text[start..position].ToString();
            }
            // A repeated parameter makes the header ambiguous.
            if (!parameters.TryAdd(name, value)) return false;
            position = SkipWhitespace(text, position);
            if (position == text.Length) break;
            if (text[position] != ',') return false;
            position = SkipWhitespace(text, position + 1);
        }

        if (!parameters.TryGetValue("origin", out var origin) || !parameters.TryGetValue("key", out var key)
            || !parameters.TryGetValue("sig", out var signature) || origin.Length == 0 || key.Length == 0 || signature.Length == 0)
            return false;
        result = new XMatrixAuthorization(origin, parameters.GetValueOrDefault("destination"), key, signature);
        return true;
    }

    private static bool TryReadQuoted(ReadOnlySpan<char> text, ref int position, out string value)
    {
        var builder = new StringBuilder();
        position++;
        while (position < text.Length)
        {
            var c = text[position++];
            if (c == '"')
            {
                value = builder.ToString();
                return true;
            }
            if (c == '\\')
            {
                if (position == text.Length) break;
                c = text[position++];
            }
            builder.Append(c);
        }
        value = "";
        return false;
    }

    private static int SkipWhitespace(ReadOnlySpan<char> text, int position)
    {
        while (position < text.Length && text[position] is ' ' or '\t') position++;
        return position;
    }

    // RFC 9110 tchar.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
