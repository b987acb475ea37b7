using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>
/// The effective power levels of a room: the current <c>m.room.power_levels</c> content with the
/// spec's defaults, or, without such an event, the creator at 100 and everyone else at 0.
/// </summary>
public sealed class PowerLevels
{
    public const long CreatorLevelWithoutPowerLevels = 100;

    private readonly JsonElement? content;
    private readonly string? creator;
    private readonly RoomVersion version;

    private PowerLevels(RoomVersion version, JsonElement? content, string? creator)
    {
        this.version = version;
        this.content = content;
        this.creator = creator;
    }

    public static PowerLevels FromState(RoomVersion version, IReadOnlyDictionary<StateEventKey, Pdu> state)
    {
        var create = state.Get(StateEventKey.Create);
        return new PowerLevels(
            version,
            state.Get(StateEventKey.PowerLevels)?.Content,
            create is null ? null : RoomCreator.Of(version, create));
    }

    public bool HasPowerLevelsEvent => content is not null;

    public long Ban => Named("ban", 50);
    public long Kick => Named("kick", 50);
    public long Redact => Named("redact", 50);
    public long Invite => Named("invite", 0);
    public long UsersDefault => Named("users_default", 0);
    public long EventsDefault => Named("events_default", 0);

    /// <summary>50 when unspecified, but 0 when the room has no power levels event at all.</summary>
    public long StateDefault => Named("state_default", HasPowerLevelsEvent ? 50 : 0);

    /// <summary>The level <c>notifications.{key}</c> asks of a sender (push rules' sender_notification_permission); 50 when unset.</summary>
    public long NotificationLevel(string key) =>
        content is { } levels && TryGetMapEntry(levels, "notifications", key, out var level) ? level : 50;

    public long UserLevel(string userId)
    {
        if (content is not { } levels)
            return userId == creator ? CreatorLevelWithoutPowerLevels : 0;
        return TryGetMapEntry(levels, "users", userId, out var level) ? level : UsersDefault;
    }

    /// <summary>The level needed to send an event of this type: its <c>events</c> entry, else the state or event default.</summary>
    public long RequiredLevel(string eventType, bool isState)
    {
        if (content is { } levels && TryGetMapEntry(levels, "events", eventType, out var level))
            return level;
        return isState ? StateDefault : EventsDefault;
    }

    /// <summary>Power levels content for a new room: the creator at 100, the spec defaults spelled out,
    /// and room-wide settings (power levels, history visibility, encryption...) reserved for admins.</summary>
    public static JsonObject DefaultContent(UserId creator) => new()
    {
        ["ban"] = 50,
        ["events"] = new JsonObject
        {
            ["m.room.avatar"] = 50,
            ["m.room.canonical_alias"] = 50,
            ["m.room.encryption"] = 100,
            ["m.room.history_visibility"] = 100,
            ["m.room.name"] = 50,
            ["m.room.power_levels"] = 100,
            ["m.room.server_acl"] = 100,
            ["m.room.tombstone"] = 100,
        },
        ["events_default"] = 0,
        ["invite"] = 0,
        ["kick"] = 50,
        ["notifications"] = new JsonObject { ["room"] = 50 },
        ["redact"] = 50,
        ["state_default"] = 50,
        ["users"] = new JsonObject { [creator.Value] = 100 },
        ["users_default"] = 0,
    };

    /// <summary>
    /// A level as the room version reads it: a JSON integer, or before v10 also a string holding one (as
    /// Synapse's <c>int()</c> does: surrounding white space and a sign are allowed).
    /// </summary>
    public static bool TryReadLevel(RoomVersion version, JsonElement value, out long level)
    {
        if (CanonicalJson.TryGetInteger(value, out level))
            return true;
        return !version.IntegerOnlyPowerLevels
            && value.ValueKind == JsonValueKind.String
            && long.TryParse(value.GetString(),
                System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowLeadingWhite
                | System.Globalization.NumberStyles.AllowTrailingWhite,
                System.Globalization.CultureInfo.InvariantCulture, out level);
    }

    // Values are levels in any accepted power levels event; anything else falls back to the default.
    private long Named(string key, long fallback) =>
        content is { } levels && levels.TryGetProperty(key, out var value) && TryReadLevel(version, value, out var level)
            ? level
            : fallback;

    private bool TryGetMapEntry(JsonElement levels, string map, string key, out long level)
    {
        level = 0;
        return levels.TryGetProperty(map, out var entries)
            && entries.ValueKind == JsonValueKind.Object
            && entries.TryGetProperty(key, out var value)
            && TryReadLevel(version, value, out level);
    }
}
