using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.Grains.PushRules;

/// <summary>What the room knows when one member's rules are evaluated for one event.</summary>
public readonly record struct PushContext(
    EventProperties Event, string UserId, string? DisplayName, int MemberCount, long SenderPowerLevel, Func<string, long> NotificationLevel);

/// <summary>The outcome of the first matching rule: whether it notifies, whether it highlights, its actions as JSON.</summary>
public sealed record PushActions(bool Notify, bool Highlight, byte[] Json)
{
    public static PushActions From(JsonArray actions)
    {
        var notify = false;
        var highlight = false;
        foreach (var action in actions)
        {
            if (action is JsonValue value && value.GetValueKind() == JsonValueKind.String && (string)value! == "notify") notify = true;
            if (action is JsonObject tweak && tweak["set_tweak"]?.GetValueKind() == JsonValueKind.String && (string)tweak["set_tweak"]! == "highlight")
                highlight = tweak["value"] is not { } flag || flag.GetValueKind() == JsonValueKind.True;
        }
        return new PushActions(notify, highlight, JsonSerializer.SerializeToUtf8Bytes(actions));
    }
}

/// <summary>One user's rules, parsed once, in evaluation order (override, content, room, sender, underride).</summary>
public sealed class CompiledRuleSet
{
    private readonly CompiledRule[] _rules;

    private CompiledRuleSet(CompiledRule[] rules) => _rules = rules;

    public static CompiledRuleSet Compile(JsonObject global)
    {
        var rules = new List<CompiledRule>();
        foreach (var kind in DefaultPushRules.Kinds)
        {
            if (global[kind] is not JsonArray array) continue;
            foreach (var rule in array.OfType<JsonObject>())
            {
                if (rule["enabled"]?.GetValueKind() == JsonValueKind.False) continue;
                var ruleId = rule["rule_id"]?.GetValueKind() == JsonValueKind.String ? (string)rule["rule_id"]! : "";
                var actions = PushActions.From(rule["actions"] as JsonArray ?? []);
                var conditions = kind switch
                {
                    "content" => rule["pattern"]?.GetValueKind() == JsonValueKind.String
                        ? [new BodyWordCondition(Glob.Of((string)rule["pattern"]!))]
                        : null,
                    "room" => [new EventMatchCondition("room_id", Glob.Of(ruleId))],
                    "sender" => [new EventMatchCondition("sender", Glob.Of(ruleId))],
                    _ => CompileConditions(rule["conditions"] as JsonArray ?? []),
                };
                if (conditions is not null) rules.Add(new CompiledRule(ruleId, conditions, actions));
            }
        }
        return new CompiledRuleSet([.. rules]);
    }

    /// <summary>The actions of the first enabled rule that matches, or null when none does.</summary>
    public PushActions? Evaluate(in PushContext context)
    {
        foreach (var rule in _rules)
        {
            if (rule.Matches(context)) return rule.Actions;
        }
        return null;
    }

    /// <summary>The id of the first enabled rule that matches (for tests and diagnostics).</summary>
    public string? MatchingRuleId(in PushContext context)
    {
        foreach (var rule in _rules)
        {
            if (rule.Matches(context)) return rule.RuleId;
        }
        return null;
    }

    /// <summary>Null when a condition is of an unknown kind or malformed: the spec says such a rule never matches.</summary>
    private static Condition[]? CompileConditions(JsonArray conditions)
    {
        var compiled = new Condition[conditions.Count];
        for (var i = 0; i < conditions.Count; i++)
        {
            if (conditions[i] is not JsonObject condition || PushConditions.Compile(condition) is not { } c) return null;
            compiled[i] = c;
        }
        return compiled;
    }

    private sealed record CompiledRule(string RuleId, Condition[] Conditions, PushActions Actions)
    {
        public bool Matches(in PushContext context)
        {
            foreach (var condition in Conditions)
            {
                if (!condition.Matches(context)) return false;
            }
            return true;
        }
    }
}

internal abstract class Condition
{
    public abstract bool Matches(in PushContext context);
}

/// <summary>The condition kinds of the spec; validation of request bodies uses the same parsing.</summary>
public static class PushConditions
{
    internal static Condition? Compile(JsonObject condition)
    {
        var kind = Text(condition, "kind");
        var key = Text(condition, "key");
        switch (kind)
        {
            case "event_match" when key is not null && Text(condition, "pattern") is { } pattern:
                return key == "content.body" ? new BodyWordCondition(Glob.Of(pattern)) : new EventMatchCondition(key, Glob.Of(pattern));
            case "event_property_is" when key is not null && condition.TryGetPropertyValue("value", out var value) && IsScalar(value):
                return new PropertyIsCondition(key, value);
            case "event_property_contains" when key is not null && condition.TryGetPropertyValue("value", out var item) && IsScalar(item):
                return new PropertyContainsCondition(key, item);
            case "contains_display_name":
                return new DisplayNameCondition();
            case "room_member_count" when Text(condition, "is") is { } @is && MemberCountCondition.TryParse(@is) is { } count:
                return count;
            case "sender_notification_permission" when key is not null:
                return new SenderPermissionCondition(key);
            default:
                return null;
        }
    }

    /// <summary>Whether a condition of a known kind has the parameters its kind requires.</summary>
    public static bool IsValid(JsonObject condition) => Compile(condition) is not null;

    /// <summary>Whether the kind is one this server evaluates (a rule with another kind is stored but never matches).</summary>
    public static bool IsKnownKind(string? kind) => kind is "event_match" or "event_property_is" or "event_property_contains"
        or "contains_display_name" or "room_member_count" or "sender_notification_permission";

    private static string? Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : null;

    private static bool IsScalar(JsonNode? value) =>
        value is null || value.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null;

    internal static bool ScalarEquals(JsonElement element, JsonNode? value)
    {
        if (value is null) return element.ValueKind == JsonValueKind.Null;
        return value.GetValueKind() switch
        {
            JsonValueKind.String => element.ValueKind == JsonValueKind.String && element.GetString() == (string)value!,
            JsonValueKind.True => element.ValueKind == JsonValueKind.True,
            JsonValueKind.False => element.ValueKind == JsonValueKind.False,
            JsonValueKind.Null => element.ValueKind == JsonValueKind.Null,
            // Canonical JSON has integers only.
            JsonValueKind.Number => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var n)
                && value.AsValue().TryGetValue<long>(out var m) && n == m,
            _ => false,
        };
    }
}

internal sealed class EventMatchCondition(string key, Glob pattern) : Condition
{
    public override bool Matches(in PushContext context) => context.Event.String(key) is { } value && pattern.MatchesWhole(value);
}

/// <summary>content.body matches at word boundaries (event_match on content.body, and content rules).</summary>
internal sealed class BodyWordCondition(Glob pattern) : Condition
{
    public override bool Matches(in PushContext context) => context.Event.Body is { } body && pattern.MatchesWord(body);
}

internal sealed class PropertyIsCondition(string key, JsonNode? value) : Condition
{
    public override bool Matches(in PushContext context) =>
        context.Event.TryGet(key, out var actual) && PushConditions.ScalarEquals(actual, value);
}

internal sealed class PropertyContainsCondition(string key, JsonNode? value) : Condition
{
    public override bool Matches(in PushContext context)
    {
        if (!context.Event.TryGet(key, out var actual) || actual.ValueKind != JsonValueKind.Array) return false;
        foreach (var item in actual.EnumerateArray())
        {
            if (PushConditions.ScalarEquals(item, value)) return true;
        }
        return false;
    }
}

internal sealed class DisplayNameCondition : Condition
{
    public override bool Matches(in PushContext context) =>
        context.DisplayName is { Length: > 0 } name && context.Event.Body is { } body && Glob.ContainsWord(body, name);
}

internal sealed class SenderPermissionCondition(string key) : Condition
{
    public override bool Matches(in PushContext context) => context.SenderPowerLevel >= context.NotificationLevel(key);
}

internal sealed class MemberCountCondition(string op, long number) : Condition
{
    public static MemberCountCondition? TryParse(string @is)
    {
        var op = @is.StartsWith(">=", StringComparison.Ordinal) || @is.StartsWith("<=", StringComparison.Ordinal) || @is.StartsWith("==", StringComparison.Ordinal)
            ? @is[..2]
            : @is.StartsWith('<') || @is.StartsWith('>') ? @is[..1] : "==";
        var digits = @is[(op == "==" && !@is.StartsWith("==", StringComparison.Ordinal) ? 0 : op.Length)..];
        return digits.Length > 0 && digits.All(char.IsAsciiDigit) && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? new MemberCountCondition(op, n)
            : null;
    }

    public override bool Matches(in PushContext context) => op switch
    {
        "<" => context.MemberCount < number,
        ">" => context.MemberCount > number,
        "<=" => context.MemberCount <= number,
        ">=" => context.MemberCount >= number,
        _ => context.MemberCount == number,
    };
}
