using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace HomeServer.Grains.Identifiers;

/// <summary>
/// An event ID in the format of room versions 4 and later: <c>$</c> followed by the URL-safe
/// unpadded base64 of the event's 32-byte SHA-256 reference hash (43 characters).
/// </summary>
public sealed record EventId : IParsable<EventId>
{
    public const int HashLength = 32;
    private const int EncodedLength = 43;

    private EventId(string value) => Value = value;

    public string Value { get; }

    public override string ToString() => Value;

    public static EventId FromReferenceHash(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != HashLength)
            throw new ArgumentException($"A reference hash is {HashLength} bytes, got {sha256.Length}.", nameof(sha256));
        return new EventId("$" + Base64Url.EncodeToString(sha256));
    }

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static EventId Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a valid event ID.");

    public static bool TryParse([NotNullWhen(true)] string? s, [MaybeNullWhen(false)] out EventId result)
    {
        result = null;
        if (s is null || s.Length != EncodedLength + 1 || s[0] != '$')
            return false;
        Span<byte> hash = stackalloc byte[HashLength];
        // Decoding (rather than only checking the alphabet) also refuses non-zero trailing bits,
        // so every valid ID names exactly one hash.
        if (Base64Url.DecodeFromChars(s.AsSpan(1), hash, out var consumed, out var written) != System.Buffers.OperationStatus.Done
            || consumed != EncodedLength || written != HashLength
            || Base64Url.EncodeToString(hash) != s[1..])
            return false;
        result = new EventId(s);
        return true;
    }

    static EventId IParsable<EventId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<EventId>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out EventId result) => TryParse(s, out result);
}
