using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Serialization;

namespace HomeServer.Grains.Events;

/// <summary>
/// Matrix canonical JSON (spec appendix): UTF-8, no insignificant whitespace, object keys sorted by
/// code point, integers only within ±(2^53 - 1), and only <c>"</c>, <c>\</c> and control characters
/// escaped (short forms where they exist, otherwise lower-case <c>\u00xx</c>).
/// </summary>
public static class CanonicalJson
{
    public const long MaxSafeInteger = SafeInteger.Max;
    public const long MinSafeInteger = -SafeInteger.Max;

    /// <param name="strict">
    /// False for room versions 1-5, whose events may hold fractions and integers beyond ±(2^53 - 1): such
    /// numbers are then written as they were received instead of being refused.
    /// </param>
    public static byte[] Encode(JsonElement value, bool strict = true)
    {
        var output = new ArrayBufferWriter<byte>(256);
        WriteValue(output, value, strict);
        return output.WrittenSpan.ToArray();
    }

    /// <param name="strict">As for <see cref="Encode(JsonElement, bool)"/>.</param>
    public static byte[] Encode(JsonNode? value, bool strict = true)
    {
        var output = new ArrayBufferWriter<byte>(256);
        WriteNode(output, value, strict);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Parses UTF-8 JSON text and re-encodes it canonically.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), StoredJson.DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new CanonicalJsonException($"Invalid JSON: {e.Message}", e);
        }
        using (document)
            return Encode(document.RootElement);
    }

    /// <summary>
    /// Reads a number as an integer the way canonical encoding would: integral values in range,
    /// however written (<c>1e2</c> is 100). Non-numbers, fractions and out-of-range values give false.
    /// </summary>
    public static bool TryGetInteger(JsonElement value, out long integer)
    {
        integer = 0;
        if (value.ValueKind != JsonValueKind.Number)
            return false;
        if (value.TryGetInt64(out integer))
            return integer is >= MinSafeInteger and <= MaxSafeInteger;
        return SafeInteger.TryParse(value.GetRawText(), out integer);
    }

    private static void WriteValue(ArrayBufferWriter<byte> output, JsonElement value, bool strict)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(output, value, strict);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                var first = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!first)
                        output.Write(","u8);
                    first = false;
                    WriteValue(output, item, strict);
                }
                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                WriteString(output, ReadString(value));
                break;
            case JsonValueKind.Number:
                if (!TryGetInteger(value, out var integer) && !strict)
                {
                    WriteAscii(output, value.GetRawText());
                    break;
                }
                if (!TryGetInteger(value, out integer))
                    throw new CanonicalJsonException(
                        $"The number {value.GetRawText()} is not an integer in the range [{MinSafeInteger}, {MaxSafeInteger}].");
                WriteAscii(output, integer.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            default:
                throw new CanonicalJsonException($"Unexpected JSON value kind {value.ValueKind}.");
        }
    }

    // Nodes are walked directly: Utf8JsonWriter would silently turn unpaired surrogates into U+FFFD.
    private static void WriteNode(ArrayBufferWriter<byte> output, JsonNode? node, bool strict)
    {
        switch (node)
        {
            case null:
                output.Write("null"u8);
                break;
            case JsonObject obj:
                WriteMembers(output, obj.Select(p => (p.Key, p.Value)).ToList(), (o, v) => WriteNode(o, v, strict));
                break;
            case JsonArray array:
                output.Write("["u8);
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                        output.Write(","u8);
                    WriteNode(output, array[i], strict);
                }
                output.Write("]"u8);
                break;
            case JsonValue value when value.TryGetValue<JsonElement>(out var element):
                WriteValue(output, element, strict);
                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                WriteString(output, text);
                break;
            case JsonValue value when value.TryGetValue<char>(out var character):
                WriteString(output, character.ToString());
                break;
            case JsonValue value:
                // Numbers and booleans from CLR values: let the serializer format them, then validate.
                JsonElement formatted;
                try
                {
                    formatted = JsonSerializer.SerializeToElement(value);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
                {
                    throw new CanonicalJsonException($"The value cannot be written as JSON: {e.Message}", e);
                }
                WriteValue(output, formatted, strict);
                break;
        }
    }

    private static void WriteObject(ArrayBufferWriter<byte> output, JsonElement value, bool strict)
    {
        var members = new List<(string Name, JsonElement Value)>();
        foreach (var property in value.EnumerateObject())
            members.Add((ReadName(property), property.Value));
        WriteMembers(output, members, (o, v) => WriteValue(o, v, strict));
    }

    private static void WriteMembers<T>(ArrayBufferWriter<byte> output, List<(string Name, T Value)> members,
        Action<ArrayBufferWriter<byte>, T> writeValue)
    {
        members.Sort((a, b) => CodePointComparer.Instance.Compare(a.Name, b.Name));
        output.Write("{"u8);
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
            {
                // Sorted, so duplicates are adjacent; with duplicates there is no single canonical form.
                if (members[i].Name == members[i - 1].Name)
                    throw new CanonicalJsonException($"Duplicate object key '{members[i].Name}'.");
                output.Write(","u8);
            }
            WriteString(output, members[i].Name);
            output.Write(":"u8);
            writeValue(output, members[i].Value);
        }
        output.Write("}"u8);
    }

    private static string ReadString(JsonElement value)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new CanonicalJsonException("A string contains an unpaired surrogate and cannot be UTF-8.", e);
        }
    }

    private static string ReadName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw new CanonicalJsonException("An object key contains an unpaired surrogate and cannot be UTF-8.", e);
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> output, string text)
    {
        output.Write("\""u8);
        Span<byte> utf8 = stackalloc byte[4];
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var consumed) != OperationStatus.Done)
                throw new CanonicalJsonException("A string contains an unpaired surrogate and cannot be UTF-8.");
            rest = rest[consumed..];
            switch (rune.Value)
            {
                case '"': output.Write("\\\""u8); break;
                case '\\': output.Write("\\\\"u8); break;
                case '\b': output.Write("\\b"u8); break;
                case '\f': output.Write("\\f"u8); break;
                case '\n': output.Write("\\n"u8); break;
                case '\r': output.Write("\\r"u8); break;
                case '\t': output.Write("\\t"u8); break;
                case < 0x20:
                    WriteAscii(output, $"\\u{rune.Value:x4}");
                    break;
                default:
                    var length = rune.EncodeToUtf8(utf8);
                    output.Write(utf8[..length]);
                    break;
            }
        }
        output.Write("\""u8);
    }

    private static void WriteAscii(ArrayBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        var written = Encoding.ASCII.GetBytes(ascii, span);
        output.Advance(written);
    }
}
