using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeServer.Grains.Sync.Json;

/// <summary>
/// A filter's <c>event_fields</c>: only the listed fields of each event, each a dot-separated path into the event
/// (<c>content.body</c>), a backslash escaping a literal dot. A path that is not in the event is left out; the spec is
/// silent on a path that ends in a non-object, and, as Synapse does, such a path selects nothing.
/// </summary>
internal static class EventFieldsWriter
{
    /// <summary>Writes what <paramref name="write"/> writes (one event object), keeping only <paramref name="fields"/>.</summary>
    public static void Write(Utf8JsonWriter writer, IReadOnlyList<string> fields, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var inner = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true })) write(inner);
        if (JsonNode.Parse(buffer.WrittenSpan) is not JsonObject full)
        {
            writer.WriteRawValue(buffer.WrittenSpan, skipInputValidation: true);
            return;
        }
        var kept = new JsonObject();
        foreach (var field in fields) Copy(full, kept, SplitPath(field));
        kept.WriteTo(writer);
    }

    private static void Copy(JsonObject from, JsonObject to, IReadOnlyList<string> path)
    {
        for (var i = 0; i < path.Count; i++)
        {
            if (!from.TryGetPropertyValue(path[i], out var value) || value is null) return;
            if (i == path.Count - 1)
            {
                to[path[i]] = value.DeepClone();
                return;
            }
            if (value is not JsonObject inner) return;
            if (to[path[i]] is not JsonObject target) to[path[i]] = target = new JsonObject();
            from = inner;
            to = target;
        }
    }

    /// <summary>The path's parts: split at dots not preceded by a backslash, <c>\.</c> read as a dot and <c>\\</c> as a backslash.</summary>
    private static List<string> SplitPath(string field)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            var c = field[i];
            if (c == '\\' && i + 1 < field.Length && field[i + 1] is '.' or '\\')
            {
                current.Append(field[++i]);
            }
            else if (c == '.')
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        parts.Add(current.ToString());
        return parts;
    }
}
