using System.Diagnostics.CodeAnalysis;

namespace HomeServer.Grains.Identifiers;

/// <summary>A room version this server implements, with the behaviour switches that differ between them.</summary>
public sealed class RoomVersion
{
    public static readonly RoomVersion V10 = new("10", v11Semantics: false);
    public static readonly RoomVersion V11 = new("11", v11Semantics: true);

    public static IReadOnlyList<RoomVersion> Supported { get; } = [V10, V11];

    private RoomVersion(string id, bool v11Semantics)
    {
        Id = id;
        CreatorIsSender = v11Semantics;
        RedactsInContent = v11Semantics;
        UsesV11RedactionRules = v11Semantics;
    }

    public string Id { get; }

    /// <summary>v11: <c>m.room.create</c> has no <c>creator</c>; the creator is the event's sender.</summary>
    public bool CreatorIsSender { get; }

    /// <summary>v11: <c>m.room.redaction</c> carries <c>redacts</c> in its content, not at top level.</summary>
    public bool RedactsInContent { get; }

    /// <summary>v11: the redaction algorithm of room version 11.</summary>
    public bool UsesV11RedactionRules { get; }

    public override string ToString() => Id;

    public static bool TryGet([NotNullWhen(true)] string? id, [MaybeNullWhen(false)] out RoomVersion version)
    {
        version = Supported.FirstOrDefault(v => v.Id == id);
        return version is not null;
    }
}
