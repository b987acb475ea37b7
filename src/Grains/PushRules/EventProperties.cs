using System.Text;
using System.Text.Json;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// An event flattened as the push rules see it: each value under its dot-separated key, with dots and backslashes in
/// property names escaped by a backslash (<c>content.m\.relates_to.rel_type</c>). Computed once per event and shared
/// by every member's evaluation.
/// </summary>
public sealed class EventProperties
{
    private static readonly string[] TopLevelKeys = ["type", "state_key", "sender", "room_id", "event_id", "content"];

    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);

    // String values decoded once: every member's rules read the same few (type, content.msgtype, content.body).
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    public EventProperties(JsonElement @event)
    {
        if (@event.ValueKind != JsonValueKind.Object) return;
        foreach (var key in TopLevelKeys)
        {
            if (@event.TryGetProperty(key, out var value)) Add(key, value);
        }
        Body = String("content.body");
    }

    /// <summary>content.body when it is a string.</summary>
    public string? Body { get; }

    public bool TryGet(string key, out JsonElement value) => _values.TryGetValue(key, out value);

    public string? String(string key) => _strings.GetValueOrDefault(key);

    private void Add(string key, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject()) Add(key + "." + Escape(property.Name), property.Value);
            return;
        }
        _values[key] = value;
        if (value.ValueKind == JsonValueKind.String) _strings[key] = value.GetString()!;
    }

    private static string Escape(string name)
    {
        if (name.IndexOfAny(['.', '\\']) < 0) return name;
        var escaped = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (c is '.' or '\\') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
