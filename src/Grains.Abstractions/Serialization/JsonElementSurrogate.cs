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
        using var document = JsonDocument.Parse(utf8);
        return document.RootElement.Clone();
    }

    public JsonElementSurrogate ConvertToSurrogate(in JsonElement value) =>
        new(value.ValueKind == JsonValueKind.Undefined ? [] : JsonSerializer.SerializeToUtf8Bytes(value));
}
