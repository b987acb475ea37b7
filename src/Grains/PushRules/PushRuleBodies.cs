using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.Grains.PushRules;

/// <summary>Parses and checks the bodies of push rule edits into the stored rule form.</summary>
public static class PushRuleBodies
{
    private static readonly HashSet<string> SimpleActions = ["notify", "dont_notify", "coalesce"];

    /// <summary>The stored form of a user rule from a PUT body: enabled, with actions and the kind's own fields.</summary>
    public static JsonObject Rule(string kind, string ruleId, byte[] body)
    {
        var parsed = ParseObject(body, "The rule");
        if (!parsed.TryGetPropertyValue("actions", out var actions)) throw MatrixRequestException.BadJson("The rule needs actions.");
        var rule = new JsonObject
        {
            ["rule_id"] = ruleId,
            ["default"] = false,
            ["enabled"] = true,
            ["actions"] = CheckActions(actions),
        };
        switch (kind)
        {
            case "content":
                if (parsed["pattern"] is not JsonValue pattern || pattern.GetValueKind() != JsonValueKind.String)
                    throw MatrixRequestException.BadJson("A content rule needs a pattern string.");
                rule["pattern"] = (string)pattern!;
                break;
            case "override" or "underride":
                rule["conditions"] = CheckConditions(parsed["conditions"]);
                break;
        }
        return rule;
    }

    /// <summary>The actions array of a PUT .../actions body.</summary>
    public static JsonArray Actions(byte[] body)
    {
        var parsed = ParseObject(body, "The body");
        if (!parsed.TryGetPropertyValue("actions", out var actions)) throw MatrixRequestException.BadJson("The body needs actions.");
        return CheckActions(actions);
    }

    private static JsonArray CheckActions(JsonNode? actions)
    {
        if (actions is not JsonArray array) throw MatrixRequestException.BadJson("actions must be an array.");
        foreach (var action in array)
        {
            switch (action)
            {
                case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                    if (!SimpleActions.Contains((string)value!))
                        throw MatrixRequestException.InvalidParam($"Unknown action {(string)value!}.");
                    break;
                case JsonObject tweak when tweak["set_tweak"] is JsonValue name && name.GetValueKind() == JsonValueKind.String:
                    break;
                default:
                    throw MatrixRequestException.BadJson("Each action is a string or an object with a set_tweak string.");
            }
        }
        return (JsonArray)array.DeepClone();
    }

    /// <summary>Conditions of a known kind must carry that kind's parameters; other kinds are kept and never match.</summary>
    private static JsonArray CheckConditions(JsonNode? conditions)
    {
        if (conditions is null) return [];
        if (conditions is not JsonArray array) throw MatrixRequestException.BadJson("conditions must be an array.");
        foreach (var condition in array)
        {
            if (condition is not JsonObject o || o["kind"] is not JsonValue kind || kind.GetValueKind() != JsonValueKind.String)
                throw MatrixRequestException.BadJson("Each condition is an object with a kind string.");
            if (PushConditions.IsKnownKind((string)kind!) && !PushConditions.IsValid(o))
                throw MatrixRequestException.InvalidParam($"The {(string)kind!} condition lacks a parameter or has one of the wrong type.");
        }
        return (JsonArray)array.DeepClone();
    }

    private static JsonObject ParseObject(byte[] body, string what)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw MatrixRequestException.BadJson($"{what} must be a JSON object.");
        }
        catch (JsonException)
        {
            throw new MatrixRequestException("M_NOT_JSON", $"{what} is not valid JSON.");
        }
    }
}
