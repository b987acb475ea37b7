using System.Text.Json;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>Rule 9 of the authorization rules: changes to <c>m.room.power_levels</c>.</summary>
internal static class PowerLevelsRules
{
    private static readonly string[] NamedLevels =
        ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"];

    private static readonly string[] LevelMaps = ["events", "notifications"];

    public static AuthResult Authorize(RoomVersion version, Pdu pdu, Pdu? current, long senderLevel)
    {
        var proposed = pdu.Content;

        // 9.1 (from v10 integers only; before, strings holding integers too)
        foreach (var key in NamedLevels)
        {
            if (proposed.TryGetProperty(key, out var value) && !PowerLevels.TryReadLevel(version, value, out _))
                return AuthResult.Reject($"'{key}' must be an integer.");
        }
        // 9.2 (from v10; before, only the users map is checked, as Synapse does)
        foreach (var map in LevelMaps)
        {
            if (!version.IntegerOnlyPowerLevels)
                break;
            if (proposed.TryGetProperty(map, out var value) && !IsIntegerMap(version, value, keysAreUserIds: false))
                return AuthResult.Reject($"'{map}' must be an object with integer values.");
        }
        // 9.3
        if (proposed.TryGetProperty("users", out var users) && !IsIntegerMap(version, users, keysAreUserIds: true))
            return AuthResult.Reject("'users' must be an object mapping user IDs to integers.");

        // 9.4
        if (current is null)
            return AuthResult.Allow;
        var previous = current.Content;

        // 9.5
        foreach (var key in NamedLevels)
        {
            var before = Integer(version, previous, key);
            var after = Integer(version, proposed, key);
            if (before == after)
                continue;
            if (before > senderLevel || after > senderLevel)
                return AuthResult.Reject($"Changing '{key}' from {Show(before)} to {Show(after)} needs a power level of at least both; the sender has {senderLevel}.");
        }

        // 9.6, 9.7 (the notifications map only from v6)
        foreach (var map in LevelMaps)
        {
            if (map == "notifications" && !version.LimitsNotificationsPowerLevels)
                continue;
            foreach (var (key, before, after) in Changes(version, previous, proposed, map))
            {
                if (before > senderLevel)
                    return AuthResult.Reject($"Changing {map}['{key}'] from {before} needs power level {before}; the sender has {senderLevel}.");
                if (after > senderLevel)
                    return AuthResult.Reject($"Setting {map}['{key}'] to {after} is above the sender's power level {senderLevel}.");
            }
        }

        // 9.8, 9.9
        foreach (var (user, before, after) in Changes(version, previous, proposed, "users"))
        {
            if (user != pdu.Sender.Value && before >= senderLevel)
                return AuthResult.Reject($"Changing the level of {user} ({before}) needs a power level above it; the sender has {senderLevel}.");
            if (after > senderLevel)
                return AuthResult.Reject($"Setting the level of {user} to {after} is above the sender's power level {senderLevel}.");
        }

        // 9.10
        return AuthResult.Allow;
    }

    private static bool IsIntegerMap(RoomVersion version, JsonElement value, bool keysAreUserIds) =>
        value.ValueKind == JsonValueKind.Object
        && value.EnumerateObject().All(entry =>
            PowerLevels.TryReadLevel(version, entry.Value, out _) && (!keysAreUserIds || UserId.IsValid(entry.Name)));

    private static long? Integer(RoomVersion version, JsonElement content, string key) =>
        content.TryGetProperty(key, out var value) && PowerLevels.TryReadLevel(version, value, out var level) ? level : null;

    /// <summary>Entries of a level map that were added, changed or removed, with their old and new values.</summary>
    private static IEnumerable<(string Key, long? Before, long? After)> Changes(RoomVersion version, JsonElement previous, JsonElement proposed, string map)
    {
        var before = Entries(version, previous, map);
        var after = Entries(version, proposed, map);
        foreach (var key in before.Keys.Union(after.Keys))
        {
            long? old = before.TryGetValue(key, out var o) ? o : null;
            long? @new = after.TryGetValue(key, out var n) ? n : null;
            if (old != @new)
                yield return (key, old, @new);
        }
    }

    private static Dictionary<string, long> Entries(RoomVersion version, JsonElement content, string map)
    {
        var entries = new Dictionary<string, long>(StringComparer.Ordinal);
        if (content.TryGetProperty(map, out var value) && value.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in value.EnumerateObject())
            {
                if (PowerLevels.TryReadLevel(version, entry.Value, out var level))
                    entries[entry.Name] = level;
            }
        }
        return entries;
    }

    private static string Show(long? level) => level?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unset";
}
