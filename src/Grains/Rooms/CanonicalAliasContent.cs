using System.Text.Json.Nodes;

namespace HomeServer.Grains.Rooms;

/// <summary>The content of m.room.canonical_alias once an alias has been deleted from the directory.</summary>
internal static class CanonicalAliasContent
{
    /// <summary>
    /// The content without <paramref name="alias"/> as <c>alias</c> or in <c>alt_aliases</c> (an emptied list goes
    /// away, as in Synapse), or null when the alias is in neither and nothing needs to change.
    /// </summary>
    public static JsonObject? Without(JsonObject content, string alias)
    {
        var updated = (JsonObject)content.DeepClone();
        var changed = false;
        if (updated["alias"] is JsonValue main && main.TryGetValue<string>(out var mainAlias) && mainAlias == alias)
        {
            updated.Remove("alias");
            changed = true;
        }
        if (updated["alt_aliases"] is JsonArray alternatives)
        {
            var kept = alternatives.Where(a => !(a is JsonValue v && v.TryGetValue<string>(out var s) && s == alias)).Select(a => a?.DeepClone()).ToArray();
            if (kept.Length != alternatives.Count)
            {
                updated.Remove("alt_aliases");
                if (kept.Length > 0) updated["alt_aliases"] = new JsonArray(kept);
                changed = true;
            }
        }
        return changed ? updated : null;
    }
}
