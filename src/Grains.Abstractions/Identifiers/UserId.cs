using System.Diagnostics.CodeAnalysis;

namespace HomeServer.Grains.Identifiers;

/// <summary>
/// A user ID <c>@localpart:server_name</c>. Parsing accepts the historical localpart grammar
/// (any code point but ':' and NUL, possibly empty) because such IDs exist in room history;
/// <see cref="Create"/> and <see cref="IsValidLocalpart"/> enforce the current grammar for new users.
/// </summary>
public sealed record UserId : IParsable<UserId>
{
    private UserId(string value, string localpart, ServerName server)
    {
        Value = value;
        Localpart = localpart;
        Server = server;
    }

    public string Value { get; }

    public string Localpart { get; }

    public ServerName Server { get; }

    /// <summary>True when the localpart follows the current grammar (<c>[a-z0-9._=\-/+]+</c>).</summary>
    public bool IsCompliant => IsValidLocalpart(Localpart);

    public override string ToString() => Value;

    /// <summary>The current localpart grammar, required for newly registered users.</summary>
    public static bool IsValidLocalpart(string? localpart) =>
        !string.IsNullOrEmpty(localpart) && localpart.All(IsLocalpartChar);

    /// <summary>Builds the ID of a new user; the localpart must follow the current grammar.</summary>
    public static UserId Create(string localpart, ServerName server) =>
        TryCreate(localpart, server, out var userId)
            ? userId
            : throw new ArgumentException($"'{localpart}' is not a valid user ID localpart for server '{server}'.", nameof(localpart));

    public static bool TryCreate(string? localpart, ServerName server, [MaybeNullWhen(false)] out UserId userId)
    {
        userId = null;
        return IsValidLocalpart(localpart)
            && TryParse($"@{localpart}:{server.Value}", out userId);
    }

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static UserId Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a valid user ID.");

    public static bool TryParse([NotNullWhen(true)] string? s, [MaybeNullWhen(false)] out UserId result)
    {
        result = null;
        if (!IdentifierSyntax.TrySplit(s, '@', out var localpart, out var server)
            || !IdentifierSyntax.IsOpaqueLocalpart(localpart))
            return false;
        result = new UserId(s!, localpart, server);
        return true;
    }

    static UserId IParsable<UserId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<UserId>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out UserId result) => TryParse(s, out result);

    private static bool IsLocalpartChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '=' or '-' or '/' or '+';
}
