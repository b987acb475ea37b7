using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace HomeServer.Grains.Identifiers;

/// <summary>
/// An event ID in one of the formats of the room versions: <c>$</c> followed by the URL-safe (v4+) or
/// standard (v3) unpadded base64 of the event's 32-byte SHA-256 reference hash (43 characters), or the
/// <c>$opaque:server</c> of v1 and v2.
/// </summary>
public sealed record EventId : IParsable<EventId>
{
    public const int HashLength = 32;
    private const int EncodedLength = 43;
    public const int MaxLength = 255;

    private EventId(string value) => Value = value;

    public string Value { get; }

    public override string ToString() => Value;

    public static EventId FromReferenceHash(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != HashLength)
            throw new ArgumentException($"A reference hash is {HashLength} bytes, got {sha256.Length}.", nameof(sha256));
        return new EventId("$" + Base64Url.EncodeToString(sha256));
    }

    /// <summary>A v3 event ID: the standard (not URL-safe) unpadded base64 of the reference hash.</summary>
    public static EventId FromReferenceHashStandardBase64(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != HashLength)
            throw new ArgumentException($"A reference hash is {HashLength} bytes, got {sha256.Length}.", nameof(sha256));
        return new EventId("$" + Convert.ToBase64String(sha256).TrimEnd('='));
    }

    /// <summary>A v1/v2 event ID: <c>$</c>, <paramref name="opaque"/>, <c>:</c> and the server that made the event.</summary>
    public static EventId Opaque(string opaque, string serverName)
    {
        var value = $"${opaque}:{serverName}";
        return TryParse(value, out var id) ? id : throw new ArgumentException($"'{value}' is not a valid event ID.");
    }

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static EventId Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a valid event ID.");

    public static bool TryParse([NotNullWhen(true)] string? s, [MaybeNullWhen(false)] out EventId result)
    {
        result = null;
        if (s is null || s.Length < 2 || s[0] != '$')
            return false;
        if (IsUrlSafeHash(s) || IsStandardHash(s) || IsOpaque(s))
        {
            result = new EventId(s);
            return true;
        }
        return false;
    }

    private static bool IsUrlSafeHash(string s)
    {
        if (s.Length != EncodedLength + 1)
            return false;
        Span<byte> hash = stackalloc byte[HashLength];
        // Decoding (rather than only checking the alphabet) also refuses non-zero trailing bits,
        // so every valid ID names exactly one hash.
        if (Base64Url.DecodeFromChars(s.AsSpan(1), hash, out var consumed, out var written) != System.Buffers.OperationStatus.Done
            || consumed != EncodedLength || written != HashLength
            || Base64Url.EncodeToString(hash) != s[1..])
            return false;
        return true;
    }

    private static bool IsStandardHash(string s)
    {
        if (s.Length != EncodedLength + 1 || s.Contains('='))
            return false;
        Span<byte> hash = stackalloc byte[HashLength];
        return Convert.TryFromBase64String(s[1..] + "=", hash, out var written)
            && written == HashLength
            && Convert.ToBase64String(hash).TrimEnd('=') == s[1..];
    }

    // v1/v2: "$" opaque ":" server name. The spec only bounds the whole ID (255 bytes); like room IDs, the
    // opaque part is non-empty and holds no NUL or space, and the server name is a valid one.
    private static bool IsOpaque(string s)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(s) > MaxLength)
            return false;
        var colon = s.IndexOf(':');
        return colon > 1 && !s.AsSpan(1, colon - 1).ContainsAny('\0', ' ') && ServerName.IsValid(s[(colon + 1)..]);
    }

    static EventId IParsable<EventId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<EventId>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out EventId result) => TryParse(s, out result);
}
