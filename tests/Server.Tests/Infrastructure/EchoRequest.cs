using System.Text.Json.Serialization;

namespace HomeServer.Server.Tests.Infrastructure;

public sealed class EchoRequest
{
    [JsonPropertyName("text")]
    public required string Text { get; init; }
}

[JsonSerializable(typeof(EchoRequest))]
public sealed partial class TestJsonContext : JsonSerializerContext;
