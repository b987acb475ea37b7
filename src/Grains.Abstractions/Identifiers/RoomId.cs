using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace HomeServer.Grains.Identifiers;

/// <summary>A room ID <c>!opaque_id:server_name</c> (room versions up to 11).</summary>
public sealed record RoomId : IParsable<RoomId>
{
    // The spec recommends ASCII letters and digits for generated opaque IDs.
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int GeneratedLength = 18;

    private RoomId(string value, string opaqueId, ServerName server)
    {
        Value = value;
        OpaqueId = opaqueId;
        Server = server;
    }

    public string Value { get; }

    public string OpaqueId { get; }

    public ServerName Server { get; }

    public override string ToString() => Value;

    /// <summary>A fresh room ID with 18 random alphanumeric characters (about 107 bits).</summary>
    public static RoomId Generate(ServerName server) =>
        Parse($"!{RandomNumberGenerator.GetString(Alphabet, GeneratedLength)}:{server.Value}");

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static RoomId Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a valid room ID.");

    /// <summary>The opaque part may hold any code point but ':' and NUL; an empty one is refused.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, [MaybeNullWhen(false)] out RoomId result)
    {
        result = null;
        if (!IdentifierSyntax.TrySplit(s, '!', out var opaque, out var server)
            || opaque.Length == 0
            || !IdentifierSyntax.IsOpaqueLocalpart(opaque))
            return false;
        result = new RoomId(s!, opaque, server);
        return true;
    }

    static RoomId IParsable<RoomId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<RoomId>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out RoomId result) => TryParse(s, out result);
}
