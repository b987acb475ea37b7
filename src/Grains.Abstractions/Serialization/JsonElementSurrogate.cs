using System.Text.Json;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Serialization;

/// <summary>How a <see cref="JsonElement"/> (event content in requests) crosses a grain call: its UTF-8 JSON text.</summary>
[GenerateSerializer, Immutable, Alias("hs.JsonElement")]
public readonly struct JsonElementSurrogate(byte[] utf8)
{
    /// <summary>The element's JSON; empty for an undefined element.</summary>
    [Id(0)]
    public byte[] Utf8 { get; } = utf8;
}

[RegisterConverter]
public sealed class JsonElementSurrogateConverter : IConverter<JsonElement, JsonElementSurrogate>
{
    public JsonElement ConvertFromSurrogate(in JsonElementSurrogate surrogate)
    {
        if (surrogate.Utf8 is not { Length: > 0 } utf8) return default;
        using var document = JsonDocument.Parse(utf8, StoredJson.DocumentOptions);
        return document.RootElement.Clone();
    }

    public JsonElementSurrogate ConvertToSurrogate(in JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined) return new([]);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = StoredJson.MaxDepth }))
        {
            value.WriteTo(writer);
        }
        return new(buffer.WrittenSpan.ToArray());
    }
}
