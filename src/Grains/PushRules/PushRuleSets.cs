using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// A user's whole <c>global</c> ruleset: the server-default rules (with the user's <c>enabled</c> and <c>actions</c>
/// for them) and the user's own rules, in evaluation order within each kind. The stored form is the account data
/// <c>m.push_rules</c> (<c>{"global": {...}}</c>), which clients also receive through /sync; reading merges it
/// with the current defaults, so a newer server's defaults reach every user.
/// </summary>
public static class PushRuleSets
{
    /// <summary>The user's ruleset from its stored account data (null: the defaults).</summary>
    public static JsonObject Merge(string userId, byte[]? stored)
    {
        var defaults = DefaultPushRules.For(userId);
        JsonObject? storedGlobal = null;
        if (stored is not null)
        {
            try
            {
                storedGlobal = JsonNode.Parse(stored)?["global"] as JsonObject;
            }
            catch (JsonException)
            {
                storedGlobal = null;
            }
        }
        var merged = new JsonObject();
        foreach (var kind in DefaultPushRules.Kinds)
        {
            var storedRules = (storedGlobal?[kind] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
            var storedById = storedRules
                .Where(rule => rule["rule_id"]?.GetValueKind() == JsonValueKind.String)
                .GroupBy(rule => (string)rule["rule_id"]!)
                .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var serverRules = defaults[kind]!.AsArray().OfType<JsonObject>().Select(rule =>
            {
                var copy = (JsonObject)rule.DeepClone();
                if (storedById.TryGetValue((string)rule["rule_id"]!, out var own))
                {
                    if (own["enabled"]?.GetValueKind() is JsonValueKind.True or JsonValueKind.False) copy["enabled"] = own["enabled"]!.DeepClone();
                    if (own["actions"] is JsonArray actions) copy["actions"] = actions.DeepClone();
                }
                return copy;
            }).ToList();
            var userRules = storedRules
                .Where(rule => rule["rule_id"]?.GetValueKind() == JsonValueKind.String && !IsServerRuleId((string)rule["rule_id"]!))
                .Select(rule => (JsonObject)rule.DeepClone())
                .ToList();
            // As Synapse: the master rule comes before the user's override rules, the other defaults after them.
            var leading = kind == "override" ? serverRules.Where(r => (string)r["rule_id"]! == ".m.rule.master").ToList() : [];
            var ordered = leading.Concat(userRules).Concat(serverRules.Except(leading));
            merged[kind] = new JsonArray(ordered.Select(rule => (JsonNode)rule).ToArray());
        }
        return merged;
    }

    /// <summary>The stored form of a ruleset.</summary>
    public static byte[] ToAccountData(JsonObject global) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["global"] = global.DeepClone() });

    public static bool IsServerRuleId(string ruleId) => ruleId.StartsWith('.');
}
