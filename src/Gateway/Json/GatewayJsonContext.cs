using System.Text.Json.Serialization;
using HomeServer.Gateway.Discovery;
using HomeServer.Gateway.Errors;

namespace HomeServer.Gateway.Json;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MatrixError))]
[JsonSerializable(typeof(VersionsResponse))]
[JsonSerializable(typeof(WellKnownClientResponse))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
