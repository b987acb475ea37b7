using System.Diagnostics.CodeAnalysis;

namespace HomeServer.Grains.Identifiers;

/// <summary>How a room version identifies its events.</summary>
public enum EventIdFormat
{
    /// <summary>v1, v2: <c>$opaque:server</c>, chosen by the sending server and written into the event itself.</summary>
    Opaque,

    /// <summary>v3: <c>$</c> and the unpadded standard base64 of the reference hash.</summary>
    ReferenceHashBase64,

    /// <summary>v4 and later: <c>$</c> and the unpadded URL-safe base64 of the reference hash.</summary>
    ReferenceHashUrlSafe,
}

/// <summary>
/// A room version this server implements, with the switches that differ between the stable versions 1-11
/// (the spec's room version pages; each property names the version that introduced it).
/// </summary>
public sealed class RoomVersion
{
    public static readonly RoomVersion V1 = new("1") { EventIdFormat = EventIdFormat.Opaque, SpecialCasesAliases = true };
    public static readonly RoomVersion V2 = new("2") { EventIdFormat = EventIdFormat.Opaque, SpecialCasesAliases = true };
    public static readonly RoomVersion V3 = new("3") { EventIdFormat = EventIdFormat.ReferenceHashBase64, SpecialCasesAliases = true };
    public static readonly RoomVersion V4 = new("4") { SpecialCasesAliases = true };
    public static readonly RoomVersion V5 = new("5") { SpecialCasesAliases = true };
    public static readonly RoomVersion V6 = new("6") { StrictCanonicalJson = true, LimitsNotificationsPowerLevels = true };
    public static readonly RoomVersion V7 = new("7", V6) { KnockJoinRule = true };
    public static readonly RoomVersion V8 = new("8", V7) { RestrictedJoinRule = true };
    public static readonly RoomVersion V9 = new("9", V8) { RedactionKeepsJoinAuthoriser = true };
    public static readonly RoomVersion V10 = new("10", V9) { KnockRestrictedJoinRule = true, IntegerOnlyPowerLevels = true };
    public static readonly RoomVersion V11 = new("11", V10) { CreatorIsSender = true, RedactsInContent = true, UsesV11RedactionRules = true };

    public static IReadOnlyList<RoomVersion> Supported { get; } = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11];

    private RoomVersion(string id) => Id = id;

    /// <summary>A version with the rules of <paramref name="previous"/>, to which the initializer adds its changes.</summary>
    private RoomVersion(string id, RoomVersion previous) : this(id)
    {
        EventIdFormat = previous.EventIdFormat;
        SpecialCasesAliases = previous.SpecialCasesAliases;
        StrictCanonicalJson = previous.StrictCanonicalJson;
        LimitsNotificationsPowerLevels = previous.LimitsNotificationsPowerLevels;
        KnockJoinRule = previous.KnockJoinRule;
        RestrictedJoinRule = previous.RestrictedJoinRule;
        RedactionKeepsJoinAuthoriser = previous.RedactionKeepsJoinAuthoriser;
        KnockRestrictedJoinRule = previous.KnockRestrictedJoinRule;
        IntegerOnlyPowerLevels = previous.IntegerOnlyPowerLevels;
        CreatorIsSender = previous.CreatorIsSender;
        RedactsInContent = previous.RedactsInContent;
        UsesV11RedactionRules = previous.UsesV11RedactionRules;
    }

    public string Id { get; }

    public EventIdFormat EventIdFormat { get; private init; } = EventIdFormat.ReferenceHashUrlSafe;

    /// <summary>
    /// v1, v2: an event carries its own <c>event_id</c>, and <c>prev_events</c>/<c>auth_events</c> are
    /// <c>[event_id, {"sha256": content hash}]</c> pairs instead of bare ids.
    /// </summary>
    public bool EventIdInEvent => EventIdFormat == EventIdFormat.Opaque;

    /// <summary>v1-v5: <c>m.room.aliases</c> has its own auth rule and keeps <c>aliases</c> when redacted.</summary>
    public bool SpecialCasesAliases { get; private init; }

    /// <summary>v6+: events must be canonical JSON with integers only, within ±(2^53 - 1).</summary>
    public bool StrictCanonicalJson { get; private init; }

    /// <summary>v6+: changes to the <c>notifications</c> map of power levels are checked like <c>events</c>.</summary>
    public bool LimitsNotificationsPowerLevels { get; private init; }

    /// <summary>v7+: the <c>knock</c> join rule and membership.</summary>
    public bool KnockJoinRule { get; private init; }

    /// <summary>v8+: the <c>restricted</c> join rule, its <c>allow</c> list and <c>join_authorised_via_users_server</c>.</summary>
    public bool RestrictedJoinRule { get; private init; }

    /// <summary>v9+: redacting a member event keeps <c>join_authorised_via_users_server</c>.</summary>
    public bool RedactionKeepsJoinAuthoriser { get; private init; }

    /// <summary>v10+: the <c>knock_restricted</c> join rule.</summary>
    public bool KnockRestrictedJoinRule { get; private init; }

    /// <summary>v10+: power levels must be JSON integers; before, strings holding integers were accepted.</summary>
    public bool IntegerOnlyPowerLevels { get; private init; }

    /// <summary>v11: <c>m.room.create</c> has no <c>creator</c>; the creator is the event's sender.</summary>
    public bool CreatorIsSender { get; private init; }

    /// <summary>v11: <c>m.room.redaction</c> carries <c>redacts</c> in its content, not at top level.</summary>
    public bool RedactsInContent { get; private init; }

    /// <summary>v11: the redaction algorithm of room version 11.</summary>
    public bool UsesV11RedactionRules { get; private init; }

    public override string ToString() => Id;

    public static bool TryGet([NotNullWhen(true)] string? id, [MaybeNullWhen(false)] out RoomVersion version)
    {
        version = Supported.FirstOrDefault(v => v.Id == id);
        return version is not null;
    }
}
