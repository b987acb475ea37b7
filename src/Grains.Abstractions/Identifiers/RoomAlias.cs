using System.Diagnostics.CodeAnalysis;

namespace HomeServer.Grains.Identifiers;

/// <summary>A room alias <c>#alias:server_name</c>.</summary>
public sealed record RoomAlias : IParsable<RoomAlias>
{
    private RoomAlias(string value, string alias, ServerName server)
    {
        Value = value;
        Alias = alias;
        Server = server;
    }

    public string Value { get; }

    /// <summary>The localpart, without sigil and server name.</summary>
    public string Alias { get; }

    public ServerName Server { get; }

    public override string ToString() => Value;

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static RoomAlias Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a valid room alias.");

    public static bool TryParse([NotNullWhen(true)] string? s, [MaybeNullWhen(false)] out RoomAlias result)
    {
        result = null;
        if (!IdentifierSyntax.TrySplit(s, '#', out var alias, out var server)
            || alias.Length == 0
            || !IdentifierSyntax.IsOpaqueLocalpart(alias))
            return false;
        result = new RoomAlias(s!, alias, server);
        return true;
    }

    static RoomAlias IParsable<RoomAlias>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<RoomAlias>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out RoomAlias result) => TryParse(s, out result);
}
